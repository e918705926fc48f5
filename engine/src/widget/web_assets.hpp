#pragma once

// The files of engine/web/, compiled into the binary (cmake/embed_web.cmake).

#include <string_view>

namespace parley::widget {

// The content of engine/web/<name>; std::out_of_range for a name not embedded.
std::string_view web_asset(std::string_view name);

}  // namespace parley::widget
