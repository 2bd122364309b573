// The container records on disk: <dir>/<id>.json, one per container, each
// replaced atomically (sys::WriteFileAtomically), so a crash leaves the old
// record or the new one. <dir>/<id>/ beside it holds the container's
// writable layer (container/rootfs.h).
//
// Callers serialise writes of one record; different records may be written
// concurrently.
#ifndef PODSANDBOX_CONTAINER_RECORD_STORE_H_
#define PODSANDBOX_CONTAINER_RECORD_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/record.h"
#include "sys/record_dir.h"
#include "sys/sys.h"

namespace podsandbox::container {

class RecordStore {
 public:
  RecordStore(sys::Sys& sys, std::string dir);

  // Creates the directory (0700) if needed and removes the temp files of
  // writes a kill cut short. Call once at start, before any Save.
  absl::Status Init();

  // Writes `record`; `durable` false skips the fsyncs (see
  // docs/design.md, "Journal durability": container state that dies with
  // a reboot needs only to survive a daemon crash).
  absl::Status Save(const ContainerRecord& record, bool durable);

  // Deletes the record of `id`; a missing record counts as deleted.
  absl::Status Remove(absl::string_view id);

  struct Loaded {
    std::vector<ContainerRecord> records;
    // One line per record that could not be read, renamed to
    // "<file>.corrupt" for a human and never loaded again.
    std::vector<std::string> quarantined;
  };
  // Every record in the directory; corrupt ones are quarantined.
  absl::StatusOr<Loaded> LoadAll();

  const std::string& dir() const { return records_.dir(); }
  std::string PathFor(absl::string_view id) const;

 private:
  sys::RecordDir records_;
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_RECORD_STORE_H_
