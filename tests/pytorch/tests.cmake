# The PyTorch interop tests (tools/pytorch), included from the top CMakeLists.txt's end-to-end section.
