// The sandbox records on disk: one JSON file per sandbox under
// <root>/sandboxes, each replaced atomically (temp file, fsync, rename,
// fsync of the directory), so a crash leaves the old record or the new one,
// never a mix.
//
// Callers serialise writes of one record; different records may be written
// concurrently.
#ifndef PODSANDBOX_SANDBOX_STORE_H_
#define PODSANDBOX_SANDBOX_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/record.h"
#include "sys/record_dir.h"
#include "sys/sys.h"

namespace podsandbox::sandbox {

class Store {
 public:
  Store(sys::Sys& sys, std::string dir);

  // Creates the directory if needed and removes the temp files of writes
  // that a kill cut short between write and rename ("<id>.json.tmp"; the
  // record they were replacing is intact). Call once at start, before any
  // Save, while nothing else writes the directory (the controller holds its
  // root lock).
  absl::Status Init();

  // Writes `record`. With `durable` false the fsyncs are skipped: for
  // journal entries whose side effects are themselves volatile (gone after
  // a reboot), where only a daemon crash, which the page cache survives,
  // must be covered.
  absl::Status Save(const SandboxRecord& record, bool durable);

  // Deletes the record of `id`; a missing record counts as deleted.
  absl::Status Remove(absl::string_view id);

  struct Loaded {
    std::vector<SandboxRecord> records;
    // One line per record that could not be read, which was renamed to
    // "<file>.corrupt" so it is kept for a human and never loaded again.
    std::vector<std::string> quarantined;
  };

  // Every record in the directory. Corrupt records are quarantined, never
  // fatal.
  absl::StatusOr<Loaded> LoadAll();

  std::string PathFor(absl::string_view id) const;

 private:
  sys::RecordDir records_;
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_STORE_H_
