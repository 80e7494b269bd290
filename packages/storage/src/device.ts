import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { nativeDiscard, writeZerosWhereNonZero } from "./discard";
import { StorageError, wrapIoError } from "./errors";

/**
 * The only I/O surface the volume uses: positional reads/writes and a data sync. Every volume
 * region (superblock, WAL, extent) lives on one device, so one `sync()` covers all of them.
 */
export interface BlockDevice {
  readonly sizeBytes: number;
  /** Fills `buf` from `offsetBytes`; reading past the end is a bug in the caller. */
  read(buf: Buffer, offsetBytes: number): Promise<void>;
  /** Writes the buffers back to back starting at `offsetBytes` (one pwritev). */
  writev(bufs: readonly Buffer[], offsetBytes: number): Promise<void>;
  /** fdatasync: everything written before the call is durable when it resolves. */
  sync(): Promise<void>;
  /**
   * Optional: writes like `writev` and makes exactly this range durable before resolving (O_DSYNC),
   * without writing back other dirty data of the device. A small group commit then costs only its
   * own bytes, not the flusher's extent writeback.
   */
  writevDurable?(bufs: readonly Buffer[], offsetBytes: number): Promise<void>;
  /**
   * Optional: makes [offsetBytes, offsetBytes + lengthBytes) read as zeros, releasing the space
   * where the device can (punch hole, discard). Durable like a write: after the next sync. Without
   * it, callers write zeros.
   */
  discard?(offsetBytes: number, lengthBytes: number): Promise<void>;
  close(): Promise<void>;
}

/** pwritev accepts at most IOV_MAX (1024 on Linux) buffers per call. */
const MAX_IOVECS = 1024;

function readFull(fd: number, buf: Buffer, offsetBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void => {
      fs.read(fd, buf, done, buf.length - done, offsetBytes + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error(`short read at ${offsetBytes + done}`));
        done += n;
        if (done < buf.length) step();
        else resolve();
      });
    };
    if (buf.length === 0) resolve();
    else step();
  });
}

function writevFull(fd: number, bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let index = 0;
    let position = offsetBytes;
    const step = (): void => {
      const slice = bufs.slice(index, index + MAX_IOVECS);
      const want = slice.reduce((sum, b) => sum + b.length, 0);
      fs.writev(fd, slice, position, (err, written) => {
        if (err) return reject(err);
        if (written !== want) {
          // Partial write: finish the remainder with plain writes of what is left.
          const rest = Buffer.concat(slice).subarray(written);
          const restPos = position + written;
          index += slice.length;
          position += want;
          fs.write(fd, rest, 0, rest.length, restPos, (err2, n2) => {
            if (err2) return reject(err2);
            if (n2 !== rest.length) return reject(new Error("short write"));
            if (index < bufs.length) step();
            else resolve();
          });
          return;
        }
        index += slice.length;
        position += want;
        if (index < bufs.length) step();
        else resolve();
      });
    };
    if (bufs.length === 0) resolve();
    else step();
  });
}

/** A regular file or a block device opened by path. */
export class FileDevice implements BlockDevice {
  private closed = false;
  /** A second descriptor opened O_DSYNC on first use (writevDurable). */
  private dsyncFd: Promise<number> | undefined;

  private constructor(
    private fd: number,
    readonly sizeBytes: number,
    readonly path: string,
    private readonly blockDevice = false,
  ) {}

  /** Creates a new regular file (fails if it exists) of `sizeBytes` (sparse). */
  static async createFile(filePath: string, sizeBytes: number): Promise<FileDevice> {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new StorageError("invalid_argument", `device size ${sizeBytes} must be a positive integer`);
    }
    const fd = await openFd(filePath, "wx+");
    try {
      await ftruncate(fd, sizeBytes);
    } catch (err) {
      await closeFd(fd);
      throw wrapIoError(err, `sizing ${filePath}`);
    }
    return new FileDevice(fd, sizeBytes, filePath);
  }

  /** Opens an existing regular file or block device read-write. */
  static async open(devicePath: string): Promise<FileDevice> {
    const fd = await openFd(devicePath, "r+");
    try {
      const st = await fstat(fd);
      if (!st.isFile() && !st.isBlockDevice()) {
        throw new StorageError(
          "invalid_argument",
          `${devicePath} is neither a regular file nor a block device`,
        );
      }
      let size = st.size;
      if (st.isBlockDevice() && size === 0) size = await blockDeviceSize(devicePath);
      return new FileDevice(fd, size, devicePath, st.isBlockDevice());
    } catch (err) {
      await closeFd(fd);
      throw err;
    }
  }

  read(buf: Buffer, offsetBytes: number): Promise<void> {
    return readFull(this.fd, buf, offsetBytes);
  }

  writev(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    return writevFull(this.fd, bufs, offsetBytes);
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Punch hole (files) or BLKZEROOUT (block devices) through the native helper, else zero writes. */
  async discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    if (this.closed) throw new Error("device closed");
    if (await nativeDiscard(this.fd, offsetBytes, lengthBytes, this.blockDevice)) return;
    await writeZerosWhereNonZero(
      (buf, at) => this.read(buf, at),
      (bufs, at) => this.writev(bufs, at),
      offsetBytes,
      lengthBytes,
    );
  }

  async writevDurable(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    if (this.closed) throw new Error("device closed");
    // Reopen the very inode we have open (the path could have been replaced since), O_DSYNC.
    const self = `/proc/self/fd/${this.fd}`;
    this.dsyncFd ??= openFd(
      fs.existsSync(self) ? self : this.path,
      fs.constants.O_RDWR | fs.constants.O_DSYNC,
    );
    return writevFull(await this.dsyncFd, bufs, offsetBytes);
  }

  /** Identity of the open file (`dev:ino`): swap staging checks which file a path names. */
  async identity(): Promise<string> {
    if (this.closed) throw new Error("device closed");
    const st = await fstat(this.fd);
    return `${st.dev}:${st.ino}`;
  }

  /**
   * Swap staging's last step: `path` now names a different file of the same size (renamed over ours).
   * Opens it, then closes the old descriptor and the O_DSYNC one; every later call uses the new file.
   * The caller guarantees no I/O is in flight (the volume's exclusive gate). Resolves with its identity.
   */
  async reopenPath(): Promise<string> {
    if (this.closed) throw new Error("device closed");
    const fd = await openFd(this.path, "r+");
    let id: string;
    try {
      const st = await fstat(fd);
      if (!st.isFile() || st.size !== this.sizeBytes) {
        throw new StorageError(
          "corrupt",
          `${this.path} was replaced by a file of ${st.size} bytes, expected ${this.sizeBytes}`,
        );
      }
      id = `${st.dev}:${st.ino}`;
    } catch (err) {
      await closeFd(fd);
      throw err;
    }
    const old = this.fd;
    const dsync = this.dsyncFd;
    this.fd = fd;
    this.dsyncFd = undefined;
    if (dsync) await closeFd(await dsync).catch(() => undefined);
    await closeFd(old).catch(() => undefined);
    return id;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const dsync = this.dsyncFd;
    this.dsyncFd = undefined;
    if (dsync) await closeFd(await dsync).catch(() => undefined);
    await closeFd(this.fd);
  }
}

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const ftruncate = promisify(fs.ftruncate);
const fstat = promisify(fs.fstat);

/** Block devices report st_size 0 on some kernels; sysfs has the size in 512-byte sectors. */
async function blockDeviceSize(devicePath: string): Promise<number> {
  const real = await fs.promises.realpath(devicePath);
  const name = path.basename(real);
  const text = await fs.promises.readFile(`/sys/class/block/${name}/size`, "utf8");
  const sectors = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(sectors) || sectors <= 0) {
    throw new StorageError("invalid_argument", `cannot read the size of block device ${devicePath}`);
  }
  return sectors * 512;
}
