/*
 * tools/demo_corpus.c - the facts and questions of `braincore demo`.
 *
 * Forty short facts written for this project, on varied topics, with
 * varied importance; the "Kestrel Labs" ones are about a made-up small
 * company and stand for the personal memory of an assistant (an office
 * wifi password, a colleague's birthday). Answers are not stored here: the
 * demo asks the library.
 */
#include "demo_corpus.h"

const demo_fact demo_facts[] = {
	/* astronomy */
	{"astronomy", 0.6f,
	 "Jupiter is the largest planet in the solar system, more than eleven times wider "
	 "than Earth."},
	{"astronomy", 0.7f,
	 "Sunlight takes about eight minutes and twenty seconds to travel from the Sun to "
	 "Earth."},
	{"astronomy", 0.5f,
	 "A day on Venus lasts longer than its year, because the planet turns so slowly."},
	{"astronomy", 0.4f,
	 "Saturn's rings are made mostly of chunks of ice, from grains of dust to blocks the "
	 "size of a house."},
	{"astronomy", 0.3f, "The Moon drifts about 3.8 centimetres further away from Earth every year."},
	/* geography */
	{"geography", 0.7f,
	 "The Eiffel Tower stands on the Champ de Mars in Paris and was completed in 1889."},
	{"geography", 0.6f, "The Eiffel Tower is about 330 metres tall, antennas included."},
	{"geography", 0.6f, "Mount Everest rises 8,849 metres above sea level, the highest point on Earth."},
	{"geography", 0.5f,
	 "Lake Baikal in Siberia holds roughly a fifth of the world's unfrozen fresh surface "
	 "water."},
	{"geography", 0.5f, "Canberra, not Sydney, is the capital city of Australia."},
	{"geography", 0.4f, "The Amazon carries more water to the sea than any other river."},
	/* cooking */
	{"cooking", 0.5f,
	 "Water boils at a lower temperature at high altitude, so pasta takes longer to cook in "
	 "the mountains."},
	{"cooking", 0.4f,
	 "Resting a steak for five minutes after cooking lets its juices settle back into the "
	 "meat."},
	{"cooking", 0.2f, "A pinch of salt in the coffee grounds takes the edge off bitterness."},
	{"cooking", 0.4f, "Risotto needs a starchy short-grain rice such as arborio or carnaroli."},
	{"cooking", 0.3f,
	 "Bread dough has proved enough when a floured fingertip leaves a dent that springs back "
	 "slowly."},
	/* biology */
	{"biology", 0.5f, "An octopus has three hearts and blue, copper-based blood."},
	{"biology", 0.5f,
	 "Giraffes are the tallest land animals; an adult male can stand more than five metres "
	 "tall."},
	{"biology", 0.4f, "Honeybees tell each other where to find flowers with a waggle dance."},
	{"biology", 0.4f,
	 "Tardigrades can survive being dried out, frozen and even exposed to the vacuum of "
	 "space."},
	{"biology", 0.5f, "An adult human skeleton has 206 bones, while a newborn has closer to 300."},
	/* computing history */
	{"computing", 0.6f,
	 "Ada Lovelace published the first algorithm meant to be carried out by a machine in "
	 "1843."},
	{"computing", 0.5f,
	 "The first computer bug was a real moth, taped into the logbook of the Harvard Mark II "
	 "in 1947."},
	{"computing", 0.6f,
	 "Dennis Ritchie created the C programming language at Bell Labs in the early 1970s."},
	{"computing", 0.6f, "Tim Berners-Lee proposed the World Wide Web at CERN in 1989."},
	{"computing", 0.5f, "Linus Torvalds announced Linux on a Usenet newsgroup in 1991."},
	/* music */
	{"music", 0.5f, "A standard piano has 88 keys: 52 white and 36 black."},
	{"music", 0.5f, "Beethoven wrote his Ninth Symphony after he had become almost entirely deaf."},
	{"music", 0.4f, "A string quartet is two violins, a viola and a cello."},
	{"music", 0.3f, "Orchestras usually tune to 440 hertz, the A above middle C."},
	/* sport */
	{"sport", 0.5f, "A marathon is 42.195 kilometres long."},
	{"sport", 0.3f, "A game of table tennis is played to eleven points, and it must be won by two."},
	{"sport", 0.4f,
	 "The football World Cup has been held every four years since 1930, except during the "
	 "Second World War."},
	{"sport", 0.3f, "In cricket, each side fields eleven players and an over is six balls."},
	/* a made-up small company: an assistant's personal memory */
	{"Kestrel Labs", 0.9f, "The guest wifi password at the Kestrel Labs office is heron-42-lantern."},
	{"Kestrel Labs", 0.8f, "Tomasz from the design team was born on 2 October."},
	{"Kestrel Labs", 0.7f,
	 "Kestrel Labs holds its all-hands meeting every Thursday at 10:30 in the Orchard room."},
	{"Kestrel Labs", 0.8f,
	 "The spare key to the server cupboard is kept in the blue tin on Priya's desk."},
	{"Kestrel Labs", 0.6f,
	 "Priya leads the firmware team at Kestrel Labs and prefers messages to phone calls."},
	{"Kestrel Labs", 0.7f, "Expense reports at Kestrel Labs are due on the last Friday of each month."},
};

const size_t demo_fact_count = sizeof demo_facts / sizeof demo_facts[0];

const char *const demo_recall_queries[] = {
	"wifi password",
	"which planet is the biggest",
	"who invented the web",
	"how high is Everest",
};

const size_t demo_recall_query_count = sizeof demo_recall_queries / sizeof demo_recall_queries[0];

/* Asked in this order, on one brain: the follow-up relies on the question
 * just before it. */
const demo_question demo_questions[] = {
	{"answerable", "a direct question", "What is the guest wifi password at the office?"},
	{"paraphrase", "only \"Tomasz\" in common with the fact, which says \"was born on\"",
	 "When does Tomasz celebrate his birthday?"},
	{"context", "sets the topic of the next question", "Where is the Eiffel Tower?"},
	{"follow-up", "\"it\" is the Eiffel Tower, not the giraffes or Everest",
	 "How tall is it?"},
	{"unknown", "nothing in the corpus covers it", "Who painted the Mona Lisa?"},
};

const size_t demo_question_count = sizeof demo_questions / sizeof demo_questions[0];
