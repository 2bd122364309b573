// Decoding of /proc/<pid>/mountinfo fields. The kernel writes a mount's
// root, mount point and source with space, tab, newline and backslash as
// "\ooo" (three octal digits; see proc(5) and the kernel's
// seq_path/mangle_path), so a field is split on spaces first and decoded
// after. Pure functions, thread-safe.
#ifndef PODSANDBOX_SYS_MOUNTINFO_FIELD_H_
#define PODSANDBOX_SYS_MOUNTINFO_FIELD_H_

#include <string>

#include "absl/strings/string_view.h"

namespace podsandbox::sys {

// `field` with every "\ooo" escape replaced by its byte. A backslash not
// followed by three octal digits is kept as it is (the kernel never writes
// one, so such text did not come from mountinfo).
std::string UnescapeMountInfoField(absl::string_view field);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_MOUNTINFO_FIELD_H_
