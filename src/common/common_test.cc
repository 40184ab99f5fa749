// Tests of src/common: Status/StatusOr, CRC-32C (against published check values and a bitwise
// reference), little-endian ByteWriter/ByteSource, WriteFileAtomically and AlignedBuffer.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/byte_io.h"
#include "common/crc32.h"
#include "common/json.h"
#include "fastintent/status.h"
#include "gtest/gtest.h"

namespace fastintent {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

// A fresh empty directory under the gtest temp dir; removed (with its files) by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "fi_common_test.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* p = mkdtemp(buf.data());
    EXPECT_NE(p, nullptr) << "mkdtemp failed for " << tmpl;
    path_ = p ? p : "";
  }
  ~TempDir() {
    for (const std::string& f : Files()) ::unlink((path_ + "/" + f).c_str());
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Names of the entries in the directory, without "." and "..", sorted.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path_.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Bit-at-a-time CRC-32C straight from the definition (reflected polynomial 0x82F63B78, initial
// value and final xor 0xFFFFFFFF): an independent reference for the table-driven code.
uint32_t BitwiseCrc32c(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

Status FailIfNegative(int x) {
  if (x < 0) return InvalidArgument("negative: " + std::to_string(x));
  return Status::Ok();
}

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

// Uses both macros; returns x/4 or the first error.
StatusOr<int> Quarter(int x) {
  FI_RETURN_IF_ERROR(FailIfNegative(x));
  FI_ASSIGN_OR_RETURN(int h, Half(x));
  FI_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

// ---------------------------------------------------------------------------------------------
// Status / StatusOr

TEST(StatusTest, DefaultIsOkAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, ErrorsKeepCodeAndMessage) {
  const Status s = DataLoss("model.fim: checksum mismatch in section 'weights'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "model.fim: checksum mismatch in section 'weights'");
  EXPECT_EQ(s.ToString(), "data loss: model.fim: checksum mismatch in section 'weights'");

  EXPECT_EQ(InvalidArgument("x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NotFound("x").code(), StatusCode::kNotFound);
  EXPECT_EQ(Unimplemented("x").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(IoError("x").code(), StatusCode::kIoError);
  EXPECT_EQ(Internal("x").code(), StatusCode::kInternal);
}

TEST(StatusTest, CodeNamesAreStable) {
  EXPECT_STREQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_STREQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid argument");
  EXPECT_STREQ(StatusCodeName(StatusCode::kNotFound), "not found");
  EXPECT_STREQ(StatusCodeName(StatusCode::kDataLoss), "data loss");
  EXPECT_STREQ(StatusCodeName(StatusCode::kUnimplemented), "unimplemented");
  EXPECT_STREQ(StatusCodeName(StatusCode::kIoError), "i/o error");
  EXPECT_STREQ(StatusCodeName(StatusCode::kOverloaded), "overloaded");
  EXPECT_STREQ(StatusCodeName(StatusCode::kDeadlineExceeded), "deadline exceeded");
  EXPECT_STREQ(StatusCodeName(StatusCode::kCancelled), "cancelled");
  EXPECT_STREQ(StatusCodeName(StatusCode::kInternal), "internal");
  EXPECT_STREQ(StatusCodeName(StatusCode(999)), "unknown");
}

TEST(StatusTest, WithPrefixNamesTheInputAndLeavesOkAlone) {
  const Status s = NotFound("no such label").WithPrefix("train.tsv:12");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "train.tsv:12: no such label");
  const Status ok = Status::Ok().WithPrefix("anything");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.message(), "");
}

TEST(StatusOrTest, HoldsAValueOrAnError) {
  StatusOr<std::string> v(std::string("hello"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v.status().ok());
  EXPECT_EQ(*v, "hello");
  EXPECT_EQ(v->size(), 5u);
  EXPECT_EQ(v.value(), "hello");
  std::string moved = std::move(v).value();
  EXPECT_EQ(moved, "hello");

  StatusOr<std::string> e(IoError("disk on fire"));
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kIoError);
  EXPECT_EQ(e.status().message(), "disk on fire");
}

// An OK status holds no value, so a StatusOr made from one is an Internal error in every build
// (never ok() without a value).
TEST(StatusOrTest, FromAnOkStatusIsAnInternalError) {
  StatusOr<int> v(Status::Ok());
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
  EXPECT_EQ(v.status().message(), "StatusOr constructed from an OK status");
}

TEST(StatusOrTest, MacrosPropagateTheFirstError) {
  auto q = Quarter(12);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 3);

  auto neg = Quarter(-4);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().message(), "negative: -4");

  auto odd = Quarter(6);  // 6 / 2 = 3 is odd: the second Half fails
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "3 is odd");
}

// ---------------------------------------------------------------------------------------------
// CRC-32C

TEST(Crc32cTest, PublishedCheckValues) {
  // The CRC catalogue's check value for CRC-32C (iSCSI).
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c(0, "", 0), 0u);
  // RFC 3720, appendix B.4.
  std::string zeros(32, '\0'), ones(32, '\xFF'), inc(32, '\0'), dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[i] = char(i);
    dec[i] = char(31 - i);
  }
  EXPECT_EQ(Crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(0, ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(0, inc.data(), inc.size()), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(0, dec.data(), dec.size()), 0x113FDB5Cu);
}

TEST(Crc32cTest, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(42);
  std::string buf(300, '\0');
  for (char& c : buf) c = char(rng());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; start + n <= buf.size(); n += (n < 40 ? 1 : 37)) {
      const std::string piece = buf.substr(start, n);
      ASSERT_EQ(Crc32c(0, buf.data() + start, n), BitwiseCrc32c(piece))
          << "start " << start << " length " << n;
    }
  }
}

TEST(Crc32cTest, ChainingEqualsTheWholeAtEverySplit) {
  const std::string s = "The quick brown fox jumps over the lazy dog, 0123456789.";
  const uint32_t whole = Crc32c(0, s.data(), s.size());
  EXPECT_EQ(whole, BitwiseCrc32c(s));
  for (size_t k = 0; k <= s.size(); ++k) {
    const uint32_t a = Crc32c(0, s.data(), k);
    EXPECT_EQ(Crc32c(a, s.data() + k, s.size() - k), whole) << "split at " << k;
  }
  // Three pieces.
  uint32_t c = Crc32c(0, s.data(), 5);
  c = Crc32c(c, s.data() + 5, 17);
  c = Crc32c(c, s.data() + 22, s.size() - 22);
  EXPECT_EQ(c, whole);
}

TEST(Crc32cTest, DetectsEverySingleBitFlip) {
  std::string s = "section payload bytes";
  const uint32_t good = Crc32c(0, s.data(), s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      s[i] = char(s[i] ^ (1 << bit));
      EXPECT_NE(Crc32c(0, s.data(), s.size()), good) << "byte " << i << " bit " << bit;
      s[i] = char(s[i] ^ (1 << bit));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ByteWriter / ByteSource

TEST(ByteWriterTest, EncodesLittleEndian) {
  ByteWriter w;
  w.U32(0x04030201u);
  w.U64(0x0807060504030201ull);
  w.F32(1.0f);   // 0x3F800000
  w.F32(-2.5f);  // 0xC0200000
  w.Str("ab");
  w.Bytes("\x00\xFF", 2);
  const std::string expected(
      "\x01\x02\x03\x04"
      "\x01\x02\x03\x04\x05\x06\x07\x08"
      "\x00\x00\x80\x3F"
      "\x00\x00\x20\xC0"
      "\x02\x00\x00\x00"
      "ab"
      "\x00\xFF",
      4 + 8 + 4 + 4 + 4 + 2 + 2);
  EXPECT_EQ(w.data(), expected);
}

TEST(ByteSourceTest, RoundTripsEveryType) {
  const float specials[] = {0.0f,
                            -0.0f,
                            1.5f,
                            -3.25e-30f,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  const size_t nf = sizeof(specials) / sizeof(specials[0]);
  ByteWriter w;
  w.U32(0xDEADBEEFu);
  w.U64(0xFEDCBA9876543210ull);
  w.F32s(specials, nf);
  w.Str("hello, world");
  w.Str("");
  const std::string bytes = w.data();

  MemorySource src(bytes.data(), bytes.size(), "mem");
  uint32_t a = 0;
  uint64_t b = 0;
  std::vector<float> f(nf);
  std::string s1 = "junk", s2 = "junk";
  ASSERT_TRUE(src.U32(&a, "a").ok());
  ASSERT_TRUE(src.U64(&b, "b").ok());
  ASSERT_TRUE(src.F32s(f.data(), nf, "f").ok());
  ASSERT_TRUE(src.Str(&s1, 100, "s1").ok());
  ASSERT_TRUE(src.Str(&s2, 100, "s2").ok());
  EXPECT_EQ(a, 0xDEADBEEFu);
  EXPECT_EQ(b, 0xFEDCBA9876543210ull);
  for (size_t i = 0; i < nf; ++i) {
    // Bit-exact, so -0.0 and NaN are checked too.
    // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit-exact on purpose.
    EXPECT_EQ(std::memcmp(&f[i], &specials[i], 4), 0) << "float " << i;
  }
  EXPECT_EQ(s1, "hello, world");
  EXPECT_EQ(s2, "");
  EXPECT_EQ(src.position(), bytes.size());
  EXPECT_TRUE(src.AtEnd());
  EXPECT_EQ(src.crc(), Crc32c(0, bytes.data(), bytes.size()));
}

TEST(ByteSourceTest, DecodesLittleEndianBytes) {
  const std::string bytes("\x78\x56\x34\x12\xEF\xCD\xAB\x89\x67\x45\x23\x01\x00\x00\xC0\x3F", 16);
  MemorySource src(bytes.data(), bytes.size(), "mem");
  uint32_t a;
  uint64_t b;
  float f;
  ASSERT_TRUE(src.U32(&a, "a").ok());
  ASSERT_TRUE(src.U64(&b, "b").ok());
  ASSERT_TRUE(src.F32s(&f, 1, "f").ok());
  EXPECT_EQ(a, 0x12345678u);
  EXPECT_EQ(b, 0x0123456789ABCDEFull);
  EXPECT_EQ(f, 1.5f);
}

TEST(ByteSourceTest, RunningCrcCanBeReset) {
  const std::string bytes = "headerPAYLOAD";
  MemorySource src(bytes.data(), bytes.size(), "mem");
  char buf[16];
  ASSERT_TRUE(src.Read(buf, 6, "header").ok());
  EXPECT_EQ(src.crc(), Crc32c(0, "header", 6));
  src.ResetCrc();
  EXPECT_EQ(src.crc(), 0u);
  ASSERT_TRUE(src.Read(buf, 7, "payload").ok());
  EXPECT_EQ(src.crc(), Crc32c(0, "PAYLOAD", 7));
  EXPECT_EQ(src.position(), 13u);
}

TEST(ByteSourceTest, ShortReadIsDataLossNamingWhatAndWhere) {
  const std::string bytes("\x01\x02\x03\x04\x05\x06", 6);
  MemorySource src(bytes.data(), bytes.size(), "in.bin");
  uint32_t a;
  ASSERT_TRUE(src.U32(&a, "count").ok());
  EXPECT_FALSE(src.AtEnd());
  const Status s = src.U32(&a, "widths");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "in.bin: truncated (wanted 4 bytes of widths at offset 4, file ends after 6)");
}

TEST(ByteSourceTest, OverlongStringIsRejectedBeforeReading) {
  ByteWriter w;
  w.Str(std::string(100, 'x'));
  MemorySource src(w.data().data(), w.data().size(), "in.bin");
  std::string s;
  const Status st = src.Str(&s, 99, "label");
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "in.bin: label length 100 exceeds 99");
  EXPECT_EQ(src.position(), 4u);  // only the length was consumed
}

TEST(ByteSourceTest, StringLengthBeyondTheDataIsTruncation) {
  const std::string bytes(
      "\xFF\xFF\x00\x00"
      "abc",
      7);  // claims 65535 bytes, has 3
  MemorySource src(bytes.data(), bytes.size(), "in.bin");
  std::string s;
  const Status st = src.Str(&s, 1u << 20, "label");
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
}

TEST(FileSourceTest, ReadsAFileAndKnowsItsSize) {
  TempDir dir;
  const std::string path = dir.path() + "/f.bin";
  ASSERT_TRUE(WriteFileAtomically(path, std::string("\x2A\x00\x00\x00xyz", 7)).ok());
  FileSource src(path);
  ASSERT_TRUE(src.status().ok()) << src.status().ToString();
  EXPECT_EQ(src.file_size(), 7u);
  EXPECT_EQ(src.name(), path);
  uint32_t v;
  ASSERT_TRUE(src.U32(&v, "v").ok());
  EXPECT_EQ(v, 42u);
  EXPECT_FALSE(src.AtEnd());
  char buf[3];
  ASSERT_TRUE(src.Read(buf, 3, "xyz").ok());
  EXPECT_EQ(std::string(buf, 3), "xyz");
  EXPECT_TRUE(src.AtEnd());
  EXPECT_EQ(src.Read(buf, 1, "more").code(), StatusCode::kDataLoss);
}

TEST(FileSourceTest, MissingFileIsNotFoundAndDirectoryIsRejected) {
  TempDir dir;
  FileSource missing(dir.path() + "/nope.bin");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), dir.path() + "/nope.bin: no such file");

  FileSource d(dir.path());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), dir.path() + ": is a directory");
}

// ---------------------------------------------------------------------------------------------
// WriteFileAtomically

TEST(WriteFileAtomicallyTest, WritesExactBytesWithMode0644AndNoTemporaries) {
  TempDir dir;
  const std::string path = dir.path() + "/out.bin";
  std::string bytes(100000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 7 + 3);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  EXPECT_EQ(ReadAll(path), bytes);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(dir.Files(), std::vector<std::string>{"out.bin"});
}

TEST(WriteFileAtomicallyTest, ReplacesAnExistingFileWholeByRename) {
  TempDir dir;
  const std::string path = dir.path() + "/out.bin";
  const std::string link = dir.path() + "/old.link";
  const std::string old_bytes(5000, 'o');
  ASSERT_TRUE(WriteFileAtomically(path, old_bytes).ok());
  // A second name for the old inode: an in-place rewrite would change what it shows too.
  ASSERT_EQ(::link(path.c_str(), link.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "new").ok());
  EXPECT_EQ(ReadAll(path), "new");  // shorter: nothing of the old content remains
  EXPECT_EQ(ReadAll(link), old_bytes);
  ::unlink(link.c_str());
  EXPECT_EQ(dir.Files(), std::vector<std::string>{"out.bin"});
}

TEST(WriteFileAtomicallyTest, EmptyContentIsAnEmptyFile) {
  TempDir dir;
  const std::string path = dir.path() + "/empty";
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
}

TEST(WriteFileAtomicallyTest, MissingDirectoryIsAnIoErrorNamingThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/no/such/dir/out.bin";
  const Status s = WriteFileAtomically(path, "x");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().rfind(path + ": ", 0), 0u) << s.message();
  EXPECT_TRUE(dir.Files().empty());
}

// Only regular files are replaced: a directory, a FIFO (or, as root, a device node) named as the
// output is refused before anything is written, and stays what it was.
TEST(WriteFileAtomicallyTest, NonRegularTargetsAreRefusedUntouched) {
  TempDir dir;
  const std::string sub = dir.path() + "/sub", fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  for (const std::string& target : {sub, fifo}) {
    const Status s = WriteFileAtomically(target, "x");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), target + ": not a regular file; refusing to replace it");
  }
  struct stat st;
  ASSERT_EQ(::stat(sub.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(dir.Files(), (std::vector<std::string>{"fifo", "sub"}));  // no temporary left behind
  ::rmdir(sub.c_str());
  ::unlink(fifo.c_str());
}

// A symbolic link is written through: the link stays a link, its target gets the content.
TEST(WriteFileAtomicallyTest, SymbolicLinksAreFollowed) {
  TempDir dir;
  const std::string target = dir.path() + "/real.bin", link = dir.path() + "/link.bin";
  ASSERT_TRUE(WriteFileAtomically(target, "old").ok());
  ASSERT_EQ(::symlink("real.bin", link.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(link, "new").ok());
  struct stat st;
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadAll(target), "new");
  EXPECT_EQ(dir.Files(), (std::vector<std::string>{"link.bin", "real.bin"}));
  // A link to nothing is an error, not a new file somewhere unexpected.
  const std::string dangling = dir.path() + "/dangling";
  ASSERT_EQ(::symlink("missing/file", dangling.c_str()), 0);
  const Status s = WriteFileAtomically(dangling, "x");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), dangling + ": symbolic link to a missing file");
  ::unlink(link.c_str());
  ::unlink(dangling.c_str());
}

TEST(WriteFileAtomicallyTest, RelativePathWritesIntoTheCurrentDirectory) {
  TempDir dir;
  char old_cwd[4096];
  ASSERT_NE(::getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  const Status s = WriteFileAtomically("rel.bin", "relative");
  ASSERT_EQ(::chdir(old_cwd), 0);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(dir.path() + "/rel.bin"), "relative");
  EXPECT_EQ(dir.Files(), std::vector<std::string>{"rel.bin"});
}

// ---------------------------------------------------------------------------------------------
// ParseJson

TEST(ParseJsonTest, ReasonsKeepWhereAndWhyButNotTheInput) {
  nlohmann::json j = 5;
  Status s = ParseJson("{\"text\": \"caf\xC3(\"}", &j);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "malformed JSON at byte 15: invalid string: ill-formed UTF-8 byte");
  EXPECT_EQ(j, 5);  // untouched on error
  EXPECT_EQ(ParseJson("{\"a\": 1,}", &j).message(),
            "malformed JSON at byte 9: unexpected '}'; expected string literal");
  // Not a parse_error: nlohmann throws out_of_range for this one.
  EXPECT_EQ(ParseJson("[1e999]", &j).message(), "malformed JSON: number overflow parsing '1e999'");
  ASSERT_TRUE(ParseJson(" {\"a\": [1, \"x\"]} ", &j).ok());
  EXPECT_EQ(j["a"][1], "x");
  EXPECT_EQ(JsonErrorReason("something else entirely", 3), "at byte 3: something else entirely");
}

// ---------------------------------------------------------------------------------------------
// AlignedBuffer

TEST(AlignedBufferTest, PadFloatsRoundsUpToSixteen) {
  EXPECT_EQ(kFloatPad, 16u);
  EXPECT_EQ(PadFloats(0), 0u);
  EXPECT_EQ(PadFloats(1), 16u);
  EXPECT_EQ(PadFloats(16), 16u);
  EXPECT_EQ(PadFloats(17), 32u);
  EXPECT_EQ(PadFloats(100), 112u);
}

TEST(AlignedBufferTest, IsAlignedZeroedAndMovable) {
  for (size_t n : {1u, 3u, 16u, 17u, 1000u}) {
    AlignedBuffer<float> b(n);
    ASSERT_EQ(b.size(), n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kAlignBytes, 0u) << n;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(b[i], 0.0f);
    b[n - 1] = 7.0f;
    AlignedBuffer<float> moved(std::move(b));
    EXPECT_EQ(moved.size(), n);
    EXPECT_EQ(moved[n - 1], 7.0f);
    EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(b.data(), nullptr);
    AlignedBuffer<float> assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned[n - 1], 7.0f);
    assigned.Resize(5);  // discards the contents
    EXPECT_EQ(assigned.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(assigned[i], 0.0f);
  }
  AlignedBuffer<float> empty(0);
  EXPECT_EQ(empty.data(), nullptr);
}

}  // namespace
}  // namespace fastintent
