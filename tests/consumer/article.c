#include "kim_brain.h"

int main(void) {
    // Create brain (all 13 organs)
    brain_t* brain = brain_create();

    // Process input
    char output[256];
    brain_think(brain, "What's the weather?", output, sizeof(output));
    printf("Brain says: %s\n", output);

    // Store memory
    brain_remember(brain, "User asked about weather", 0.95f);
    brain_remember(brain, "Weather query at 3 PM", 0.85f);

    // Retrieve similar memories
    char** memories = brain_recall(brain, "weather", 5);
    for (int i = 0; memories[i] != NULL; i++) {
        printf("Memory %d: %s\n", i, memories[i]);
    }
    free(memories);

    // Cleanup
    brain_destroy(brain);
    return 0;
}
