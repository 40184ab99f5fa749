#include "common/byte_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace fastintent {

Status ByteSource::Read(void* dst, size_t n, const char* what) {
  const size_t got = RawRead(dst, n);
  if (got != n) {
    return DataLoss(name_ + ": truncated (wanted " + std::to_string(n) + " bytes of " + what +
                    " at offset " + std::to_string(pos_) + ", file ends after " +
                    std::to_string(pos_ + got) + ")");
  }
  crc_ = Crc32c(crc_, dst, n);
  pos_ += n;
  return Status::Ok();
}

Status ByteSource::U32(uint32_t* v, const char* what) {
  unsigned char b[4];
  FI_RETURN_IF_ERROR(Read(b, 4, what));
  *v = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  return Status::Ok();
}

Status ByteSource::U64(uint64_t* v, const char* what) {
  uint32_t lo, hi;
  FI_RETURN_IF_ERROR(U32(&lo, what));
  FI_RETURN_IF_ERROR(U32(&hi, what));
  *v = uint64_t(hi) << 32 | lo;
  return Status::Ok();
}

Status ByteSource::F32s(float* dst, size_t n, const char* what) {
  FI_RETURN_IF_ERROR(Read(dst, n * 4, what));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < n; ++i) {
    uint32_t v;
    std::memcpy(&v, dst + i, 4);
    v = __builtin_bswap32(v);
    std::memcpy(dst + i, &v, 4);
  }
#endif
  return Status::Ok();
}

Status ByteSource::Str(std::string* s, size_t max_len, const char* what) {
  uint32_t len;
  FI_RETURN_IF_ERROR(U32(&len, what));
  if (len > max_len)
    return DataLoss(name_ + ": " + what + " length " + std::to_string(len) + " exceeds " +
                    std::to_string(max_len));
  s->resize(len);
  return Read(s->data(), len, what);
}

FileSource::FileSource(const std::string& path) : ByteSource(path) {
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) {
    status_ = errno == ENOENT ? NotFound(path + ": no such file") : IoError(path + ": cannot open");
    return;
  }
  struct stat st;
  if (fstat(fileno(f_), &st) != 0) {
    status_ = IoError(path + ": cannot stat");
    return;
  }
  size_ = uint64_t(st.st_size);
  if (S_ISDIR(st.st_mode)) status_ = InvalidArgument(path + ": is a directory");
}

FileSource::~FileSource() {
  if (f_) std::fclose(f_);
}

size_t FileSource::RawRead(void* dst, size_t n) { return f_ ? std::fread(dst, 1, n, f_) : 0; }

bool FileSource::AtEnd() {
  if (!f_) return true;
  const int c = std::fgetc(f_);
  if (c == EOF) return true;
  std::ungetc(c, f_);
  return false;
}

size_t MemorySource::RawRead(void* dst, size_t n) {
  const size_t k = n < left_ ? n : left_;
  std::memcpy(dst, p_, k);
  p_ += k;
  left_ -= k;
  return k;
}

Status WriteFileAtomically(const std::string& link_or_path, const std::string& bytes) {
  // Only a regular file (or nothing) may be replaced; a symbolic link is followed so the link
  // survives and its target gets the new content.
  std::string path = link_or_path;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) return IoError(link_or_path + ": symbolic link to a missing file");
    path = real;
    std::free(real);
  }
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return InvalidArgument(link_or_path + ": not a regular file; refusing to replace it");
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) return IoError(link_or_path + ": cannot create a temporary file in " + dir);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(name.data());
      return IoError(link_or_path + ": write failed");
    }
    done += size_t(w);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(name.data());
    return IoError(link_or_path + ": fsync failed");
  }
  ::close(fd);
  if (std::rename(name.data(), path.c_str()) != 0) {
    ::unlink(name.data());
    return IoError(link_or_path + ": rename into place failed");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace fastintent
