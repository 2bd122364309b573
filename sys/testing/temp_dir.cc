#include "sys/testing/temp_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/real_sys.h"

namespace podsandbox::sys {

namespace {

std::string DefaultBase() {
  const char* base = std::getenv("TEST_TMPDIR");
  return base != nullptr ? base : "/tmp";
}

}  // namespace

TempDir::TempDir() : TempDir(DefaultBase()) {}

TempDir::TempDir(const std::string& base) {
  std::string pattern = absl::StrCat(base, "/psb-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  PSB_CHECK(::mkdtemp(buf.data()) != nullptr);
  path_ = buf.data();
  PSB_CHECK(::chmod(path_.c_str(), 0755) == 0);
}

TempDir::~TempDir() {
  RealSys sys;
  absl::Status removed = RemoveTree(sys, path_);
  if (!removed.ok()) {
    PSB_LOG(kWarning, "remove test dir %s: %s", path_, removed.ToString());
  }
}

std::string TempDir::Sub(const std::string& name) const {
  return absl::StrCat(path_, "/", name);
}

}  // namespace podsandbox::sys
