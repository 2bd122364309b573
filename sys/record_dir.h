// A directory of JSON records, one file "<dir>/<id>.json" per record, shared
// by the sandbox and container stores. Each record is replaced atomically
// (sys::WriteFileAtomically: temp file, fsync, rename, fsync of the
// directory), so a crash leaves the old record or the new one, never a mix.
// A record that cannot be read back is renamed "<file>.corrupt": kept for a
// human, never loaded again, and never fatal to loading the others.
//
// Callers serialise writes of one record; different records may be written
// concurrently. Init runs once, before any Save, while nothing else writes
// the directory.
#ifndef PODSANDBOX_SYS_RECORD_DIR_H_
#define PODSANDBOX_SYS_RECORD_DIR_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sys/status.h"
#include "sys/sys.h"

namespace podsandbox::sys {

class RecordDir {
 public:
  RecordDir(Sys& sys, std::string dir);

  // Creates the directory (0700) if needed and removes the temp files of
  // writes that a kill cut short between write and rename (the record they
  // were replacing is intact).
  absl::Status Init();

  // Writes `json` as the record of `id`. With `durable` false the fsyncs are
  // skipped: for records whose side effects are themselves volatile (gone
  // after a reboot), where only a daemon crash, which the page cache
  // survives, must be covered (docs/design.md, "Journal durability").
  absl::Status Save(absl::string_view id, absl::string_view json, bool durable);

  // Deletes the record of `id`; a missing record counts as deleted.
  absl::Status Remove(absl::string_view id);

  // Calls `load(id, text)` for every "<id>.json", in name order. A record
  // whose `load` fails is quarantined; the result has one line for each,
  // naming the file, the cause and where it went. Errors: an unreadable
  // directory or file, or a failed quarantine rename.
  absl::StatusOr<std::vector<std::string>> LoadEach(
      absl::FunctionRef<absl::Status(absl::string_view id,
                                     absl::string_view text)>
          load);

  // LoadEach for records parsed by `parse` (text -> absl::StatusOr<Record>)
  // whose `id` member must name their own file; appends the good ones to
  // `records` and returns the quarantine lines.
  template <typename Record, typename Parse>
  absl::StatusOr<std::vector<std::string>> LoadAll(
      Parse parse, std::vector<Record>& records);

  const std::string& dir() const { return dir_; }
  std::string PathFor(absl::string_view id) const;

 private:
  Sys& sys_;
  const std::string dir_;
};

template <typename Record, typename Parse>
absl::StatusOr<std::vector<std::string>> RecordDir::LoadAll(
    Parse parse, std::vector<Record>& records) {
  return LoadEach(
      [&](absl::string_view id, absl::string_view text) -> absl::Status {
        absl::StatusOr<Record> record = parse(text);
        if (!record.ok()) return record.status();
        // A record copied or renamed by hand under another name would
        // otherwise shadow (or be shadowed by) the record of its real id.
        if (record->id != id) {
          return absl::InvalidArgumentError(
              absl::StrCat("record.id \"", record->id, "\" does not match"));
        }
        records.push_back(*std::move(record));
        return absl::OkStatus();
      });
}

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_RECORD_DIR_H_
