// Labelled text datasets: reading JSON Lines, CSV and fastText files.
#pragma once

#include <string>
#include <vector>

#include "fastintent/status.h"

namespace fastintent {

struct Example {
  std::string text;
  std::vector<std::string> labels;  // one for single-label data; any number (even 0) otherwise
  size_t line = 0;                  // 1-based line in the source file, for error messages
};

struct Dataset {
  std::string source;  // the file it was read from, for error messages ("" when built in memory)
  std::vector<Example> examples;
  // True when any row gave a "labels" list (JSON) or several __label__ tags (fastText): the
  // data is multi-label and trains a sigmoid output.
  bool multi_label = false;
  size_t multi_label_line = 0;  // the first line that made it so (0 when single-label)
};

// Reads a dataset; the format is chosen by content and extension:
// - JSON Lines (.jsonl/.json, or a first non-blank line starting with '{'): objects with
//   "text" (string) and either "label" (string) or "labels" (array of strings);
//   other fields are ignored;
// - CSV (.csv): a header row naming "text" and "label" columns (any order), RFC 4180 quoting,
//   every record with as many fields as the header;
// - fastText (.txt or lines starting "__label__"): `__label__a [__label__b ...] text`.
// Blank lines are skipped; a UTF-8 byte order mark and CRLF line ends are accepted. A text
// longer than kMaxTextBytes is an error. Errors name the file and line:
// `train.jsonl:1042: missing "text"`.
StatusOr<Dataset> ReadDataset(const std::string& path);

}  // namespace fastintent
