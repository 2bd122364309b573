// A fresh directory for one test, removed with everything in it when the
// object goes away (also when an ASSERT fails).
#ifndef PODSANDBOX_SYS_TESTING_TEMP_DIR_H_
#define PODSANDBOX_SYS_TESTING_TEMP_DIR_H_

#include <string>

namespace podsandbox::sys {

class TempDir {
 public:
  // Under $TEST_TMPDIR, else /tmp; mode 0755. Aborts if it cannot be made.
  TempDir();
  // Under `base`: for bundles and rootfs that a user namespace's root must
  // reach ($TEST_TMPDIR is under /root, mode 0700).
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_TESTING_TEMP_DIR_H_
