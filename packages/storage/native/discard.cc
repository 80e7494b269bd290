// Releases a byte range of an open file or block device so it reads back as zeros, off the event
// loop (N-API async work). Regular files: fallocate(PUNCH_HOLE | KEEP_SIZE) (the file keeps its
// size, its blocks are freed). Block devices: ioctl(BLKZEROOUT) (the kernel uses the device's
// write-zeroes / unmap where it can). Node has no binding for either.
#include <node_api.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace {

struct Work {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  int fd = -1;
  int64_t offset = 0;
  int64_t length = 0;
  bool blockDevice = false;
  int err = 0;
};

void Execute(napi_env, void* data) {
  Work* w = static_cast<Work*>(data);
  int rc;
  if (w->blockDevice) {
    uint64_t range[2] = {static_cast<uint64_t>(w->offset), static_cast<uint64_t>(w->length)};
    do {
      rc = ioctl(w->fd, BLKZEROOUT, range);
    } while (rc != 0 && errno == EINTR);
  } else {
    do {
      rc = fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, w->offset, w->length);
    } while (rc != 0 && errno == EINTR);
  }
  w->err = rc == 0 ? 0 : errno;
}

void Complete(napi_env env, napi_status, void* data) {
  Work* w = static_cast<Work*>(data);
  if (w->err == 0) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, w->deferred, undef);
  } else {
    const char* name = w->err == EOPNOTSUPP ? "EOPNOTSUPP"
                       : w->err == ENOTTY   ? "ENOTTY"
                       : w->err == ENOSYS   ? "ENOSYS"
                                            : "EIO";
    std::string text = std::string(w->blockDevice ? "BLKZEROOUT: " : "fallocate(PUNCH_HOLE): ") +
                       std::strerror(w->err);
    napi_value code, msg, error, errnoValue;
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, text.c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &error);
    napi_create_int32(env, w->err, &errnoValue);
    napi_set_named_property(env, error, "errno", errnoValue);
    napi_reject_deferred(env, w->deferred, error);
  }
  napi_delete_async_work(env, w->work);
  delete w;
}

bool GetInt64(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<int64_t>(d))) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// discard(fd: number, offsetBytes: number, lengthBytes: number, blockDevice: boolean): Promise<void>
napi_value Discard(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Work* w = new Work();
  int64_t fd = -1;
  if (argc < 4 || !GetInt64(env, argv[0], &fd) || !GetInt64(env, argv[1], &w->offset) ||
      !GetInt64(env, argv[2], &w->length) || fd > INT32_MAX) {
    delete w;
    napi_throw_type_error(env, nullptr, "discard(fd, offsetBytes, lengthBytes, blockDevice): bad arguments");
    return nullptr;
  }
  w->fd = static_cast<int>(fd);
  napi_get_value_bool(env, argv[3], &w->blockDevice);
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "blockship_discard", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, Execute, Complete, w, &w->work);
  napi_queue_async_work(env, w->work);
  return promise;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "discard", NAPI_AUTO_LENGTH, Discard, nullptr, &fn);
  napi_set_named_property(env, exports, "discard", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
