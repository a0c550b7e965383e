// The public header compiles alone as C++ and links (extern "C").
#include <tshoot.h>
#include <cstring>
int main()
{
  tshoot_search_options so = TSHOOT_SEARCH_OPTIONS_INIT;
  return (so.limit == 0 && std::strcmp(tshoot_libversion(), TSHOOT_VERSION) == 0) ? 0 : 1;
}
