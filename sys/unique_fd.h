// Owns one file descriptor and closes it on destruction. Move-only.
#ifndef PODSANDBOX_SYS_UNIQUE_FD_H_
#define PODSANDBOX_SYS_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace podsandbox::sys {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor, if any, and owns `fd` instead. close(2)
  // errors are dropped: the descriptor is released either way and there is
  // nothing to retry.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_UNIQUE_FD_H_
