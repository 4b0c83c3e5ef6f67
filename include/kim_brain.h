/*
 * kim_brain.h - compatibility header for programs written for Brain Core.
 *
 * Part of the public API of libbraincore. Compiles alone as C11 and as C++.
 *
 * Brain Core's examples include "kim_brain.h" and call printf() and free()
 * without including <stdio.h> or <stdlib.h>, which that header brought in.
 * This one does the same, so they compile unchanged against braincore:
 *
 *     cc main.c $(pkg-config --cflags --libs braincore)
 *
 * It declares nothing of its own: braincore.h and three C library headers.
 * New code should include <braincore.h> and the C headers it uses itself.
 */
#ifndef KIM_BRAIN_H
#define KIM_BRAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braincore.h"

#endif /* KIM_BRAIN_H */
