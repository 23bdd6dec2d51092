// control_plane tests: a zip archive with one file, made with libzip.
#pragma once

#include <zip.h>

#include <cstdio>
#include <string>

namespace lambdad::control_plane {

inline std::string make_zip(const std::string& name, const std::string& content) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(src);
  zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, &error);
  zip_source_t* file = zip_source_buffer(archive, content.data(), content.size(), 0);
  zip_file_add(archive, name.c_str(), file, ZIP_FL_ENC_UTF_8);
  zip_close(archive);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  const auto size = static_cast<std::size_t>(zip_source_tell(src));
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(size, '\0');
  zip_source_read(src, out.data(), size);
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

}  // namespace lambdad::control_plane
