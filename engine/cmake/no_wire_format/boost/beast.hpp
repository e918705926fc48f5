// First on the chat pipeline's include path (engine/CMakeLists.txt): the
// pipeline works on plain C++ types, and wire formats belong to its front ends.
#error "the chat pipeline must not include <boost/beast.hpp>, not even indirectly"
