# Compiler flags of the project: warnings are errors, sanitizers on request.

set(BRAIN_WARNINGS
	-Wall -Wextra -pedantic
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
	-Wpointer-arith -Wformat=2 -Wundef -Wvla -Wdouble-promotion
	-Wcast-align -Wwrite-strings -Wnull-dereference)

if(BRAINCORE_FUZZ)
	# Checksum mismatches are ignored (storage/*.c), so that the fuzzers
	# reach the parsers behind them. Never ship such a build.
	add_compile_definitions(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()

# The Spine checks each message's lock column against the locks the
# calling thread holds (spine/messages.h) in debug and sanitizer builds,
# CI's included; a breach aborts with the message's name.
if(CMAKE_BUILD_TYPE STREQUAL "Debug" OR BRAINCORE_SANITIZE)
	set(brain_check_locks_default ON)
else()
	set(brain_check_locks_default OFF)
endif()
option(BRAINCORE_CHECK_LOCKS "Check the Spine's lock column at every message" ${brain_check_locks_default})
if(BRAINCORE_CHECK_LOCKS)
	add_compile_definitions(BRAIN_CHECK_LOCKS=1)
endif()

# Warnings are errors in development and CI (BRAINCORE_WERROR, on by
# default); packagers building with another compiler turn it off.
if(BRAINCORE_WERROR)
	list(APPEND BRAIN_WARNINGS -Werror)
endif()

# A frame larger than a thread's stack faults on its guard page instead of
# writing past it into whatever is mapped below (stack clash): callers on
# small stacks (binding runtimes' worker threads) get a crash, never a
# silent corruption. GCC and clang; a probe per page of a large frame.
include(CheckCCompilerFlag)
check_c_compiler_flag(-fstack-clash-protection BRAIN_HAVE_STACK_CLASH)
set(BRAIN_HARDENING "")
if(BRAIN_HAVE_STACK_CLASH)
	list(APPEND BRAIN_HARDENING -fstack-clash-protection)
endif()

function(brain_target_flags target)
	target_compile_options(${target} PRIVATE ${BRAIN_WARNINGS} ${BRAIN_HARDENING})
	if(BRAINCORE_FUZZ)
		# coverage feedback for libFuzzer in every target, the library too
		target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
	endif()
	if(BRAINCORE_SANITIZE)
		target_compile_options(${target} PRIVATE -fsanitize=${BRAINCORE_SANITIZE}
			-fno-omit-frame-pointer -fno-sanitize-recover=all)
	endif()
endfunction()

function(brain_link_flags target)
	if(BRAINCORE_SANITIZE)
		target_link_options(${target} PUBLIC -fsanitize=${BRAINCORE_SANITIZE})
	endif()
endfunction()
