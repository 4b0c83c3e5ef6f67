/*
 * tests/consumer/main.c - an application using an installed braincore, as
 * the Brain Core article's example does: remember, recall, free(result),
 * think, destroy.
 */
#include <stdio.h>
#include <stdlib.h>

#include <braincore.h>

int main(void)
{
	brain_t *brain = brain_create();
	if (!brain)
		return 1;
	brain_remember(brain, "The Eiffel Tower is 330 metres tall.", 0.8f);
	brain_remember(brain, "Bananas are rich in potassium.", 0.4f);
	char **memories = brain_recall(brain, "how tall is the eiffel tower", 2);
	if (!memories)
		return 1;
	for (int i = 0; memories[i]; i++)
		printf("recalled: %s\n", memories[i]);
	free(memories);
	char answer[512];
	if (brain_think(brain, "How tall is the Eiffel Tower?", answer, sizeof answer) < 0)
		return 1;
	printf("%s\n", answer);
	brain_destroy(brain);
	return 0;
}
