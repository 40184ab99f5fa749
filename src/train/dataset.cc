#include "train/dataset.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/json.h"
#include "text/featurizer.h"

namespace fastintent {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status ParseJsonLine(const std::string& line, Example* ex, bool* multi) {
  nlohmann::json j;
  FI_RETURN_IF_ERROR(ParseJson(line, &j));
  if (!j.is_object()) return InvalidArgument("expected a JSON object");
  auto t = j.find("text");
  if (t == j.end()) return InvalidArgument("missing \"text\"");
  if (!t->is_string()) return InvalidArgument("\"text\" is not a string");
  ex->text = t->get<std::string>();
  auto l = j.find("label");
  auto ls = j.find("labels");
  if (ls != j.end()) {
    if (!ls->is_array()) return InvalidArgument("\"labels\" is not an array");
    for (const auto& v : *ls) {
      if (!v.is_string()) return InvalidArgument("\"labels\" holds a non-string");
      ex->labels.push_back(v.get<std::string>());
    }
    *multi = true;
  } else if (l != j.end()) {
    if (!l->is_string()) return InvalidArgument("\"label\" is not a string");
    ex->labels.push_back(l->get<std::string>());
  } else {
    return InvalidArgument("missing \"label\" or \"labels\"");
  }
  return Status::Ok();
}

// Splits one CSV record (RFC 4180; the record may span lines, so `in` supplies more). A quoted
// field must end at its closing quote: `"a"b,c` is an error, not the field `ab`.
Status ParseCsvRecord(std::string line, std::istream& in, size_t* line_no,
                      std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool quoted = false, closed = false;  // inside quotes; just after a field's closing quote
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      std::string next;
      if (!std::getline(in, next)) return InvalidArgument("unterminated quoted CSV field");
      ++*line_no;
      if (!next.empty() && next.back() == '\r') next.pop_back();
      cur.push_back('\n');
      line = std::move(next);
      i = 0;
      continue;
    }
    char c = line[i++];
    if (quoted) {
      if (c == '"') {
        if (i < line.size() && line[i] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == ',') {
      fields->push_back(std::move(cur));
      cur.clear();
      closed = false;
    } else if (closed) {
      return InvalidArgument("text after the closing quote of a CSV field");
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else {
      cur.push_back(c);
    }
  }
  fields->push_back(std::move(cur));
  return Status::Ok();
}

enum class Format { kJsonl, kCsv, kFastText };

constexpr char kUtf8Bom[] = "\xEF\xBB\xBF";  // skipped at the start of a file

}  // namespace

StatusOr<Dataset> ReadDataset(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return InvalidArgument(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open");
  Dataset ds;
  ds.source = path;
  Format fmt = Format::kFastText;
  if (EndsWith(path, ".jsonl") || EndsWith(path, ".json"))
    fmt = Format::kJsonl;
  else if (EndsWith(path, ".csv"))
    fmt = Format::kCsv;
  else {
    // Sniff the first non-blank line.
    std::string first;
    size_t start = std::string::npos;
    while (std::getline(in, first)) {
      if (first.compare(0, 3, kUtf8Bom) == 0) first.erase(0, 3);
      if ((start = first.find_first_not_of(" \t\r")) != std::string::npos) break;
    }
    if (start != std::string::npos && first[start] == '{') fmt = Format::kJsonl;
    in.clear();
    in.seekg(0);
  }
  std::string line;
  size_t line_no = 0;
  int text_col = -1, label_col = -1;
  size_t columns = 0;  // CSV: fields in the header, which every record must have
  std::vector<std::string> fields;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t start_line = line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.compare(0, 3, kUtf8Bom) == 0) line.erase(0, 3);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto where = [&](const Status& s) {
      return s.WithPrefix(path + ":" + std::to_string(start_line));
    };
    Example ex;
    ex.line = start_line;
    if (fmt == Format::kJsonl) {
      Status s = ParseJsonLine(line, &ex, &ds.multi_label);
      if (!s.ok()) return where(s);
    } else if (fmt == Format::kCsv) {
      Status s = ParseCsvRecord(line, in, &line_no, &fields);
      if (!s.ok()) return where(s);
      if (text_col < 0) {
        for (size_t c = 0; c < fields.size(); ++c) {
          if (fields[c] == "text") text_col = int(c);
          if (fields[c] == "label") label_col = int(c);
        }
        if (text_col < 0 || label_col < 0)
          return where(InvalidArgument("CSV header must name \"text\" and \"label\" columns"));
        columns = fields.size();
        continue;
      }
      // More fields than the header is as wrong as fewer: an unquoted comma in the text would
      // otherwise shift the label column silently.
      if (fields.size() != columns)
        return where(InvalidArgument(
            "expected " + std::to_string(columns) + " CSV fields (as in the header), got " +
            std::to_string(fields.size()) + " (quote a field that holds a comma)"));
      ex.text = fields[size_t(text_col)];
      ex.labels.push_back(fields[size_t(label_col)]);
    } else {
      size_t pos = 0;
      while (line.compare(pos, 9, "__label__") == 0) {
        size_t end = line.find_first_of(" \t", pos);
        if (end == std::string::npos) end = line.size();
        ex.labels.push_back(line.substr(pos + 9, end - pos - 9));
        pos = line.find_first_not_of(" \t", end);
        if (pos == std::string::npos) pos = line.size();
      }
      if (ex.labels.empty()) return where(InvalidArgument("no __label__ prefix (fastText format)"));
      if (ex.labels.size() > 1) ds.multi_label = true;
      ex.text = line.substr(pos);
    }
    for (const std::string& l : ex.labels)
      if (l.empty()) return where(InvalidArgument("empty label"));
    if (ds.multi_label && ds.multi_label_line == 0) ds.multi_label_line = start_line;
    if (ex.text.size() > kMaxTextBytes) return where(TextTooLong(ex.text.size()));
    ds.examples.push_back(std::move(ex));
  }
  if (in.bad()) return IoError(path + ": read failed");
  return ds;
}

}  // namespace fastintent
