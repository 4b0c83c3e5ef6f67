/*
 * base/hashmap.c - see hashmap.h. The code is in hashmap_impl.h, made here
 * for 64-bit keys (brain_map) and for 32-bit keys (brain_map32).
 */
#include <string.h>

#include "base/hashmap.h"

#define MAP_T brain_map
#define MAP_CELL brain_map_cell
#define MAP_KEY uint64_t
#define MAP_EMPTY BRAIN_MAP_EMPTY
#define MAP_FN(x) brain__map_##x
#include "base/hashmap_impl.h"
#undef MAP_T
#undef MAP_CELL
#undef MAP_KEY
#undef MAP_EMPTY
#undef MAP_FN

#define MAP_T brain_map32
#define MAP_CELL brain_map32_cell
#define MAP_KEY uint32_t
#define MAP_EMPTY BRAIN_MAP32_EMPTY
#define MAP_FN(x) brain__map32_##x
#include "base/hashmap_impl.h"
#undef MAP_T
#undef MAP_CELL
#undef MAP_KEY
#undef MAP_EMPTY
#undef MAP_FN
