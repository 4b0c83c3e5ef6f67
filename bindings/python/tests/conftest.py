"""The tests import the package from this source tree (bindings/python) and
the library named by BRAINCORE_LIBRARY (ctest sets both: tests/CMakeLists.txt)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# lexical embedder only: the word table would make scores depend on data/words.bin
os.environ.setdefault("BRAINCORE_WORDS", "off")
