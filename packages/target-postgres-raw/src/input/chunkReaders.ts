import { fstatSync, read as readFd } from 'node:fs';
import { Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net';
import { isatty, ReadStream } from 'node:tty';
import { promisify } from 'node:util';
import type { ChunkReader, ReadTarget } from './PooledLines.js';

const readFdAsync = promisify(readFd);

/**
 * The process's stdin (fd 0) as it is: a file or a device (`< FILE`, /dev/null) read with fs.read
 * from where it stands; a pipe, a socket or a terminal as a stream (streamReader).
 */
export function stdinReader(target: ReadTarget): ChunkReader {
  const fd = 0;
  const stat = fstatSync(fd);
  return stat.isFIFO() || stat.isSocket() || isatty(fd) ? streamReader(fd, target) : fileReader(fd, target);
}

/**
 * A pipe, a socket or a terminal, read through the stream Node makes of it (net.Socket,
 * tty.ReadStream), given the space of each read (`onread`); closing the reader closes `fd`.
 * fs.read is no way to read a pipe: it blocks a thread of libuv's pool until the tap writes, and
 * fails (EAGAIN) once anything made the pipe non-blocking.
 */
export function streamReader(fd: number, target: ReadTarget): ChunkReader {
  // `onread` is an option of the constructors (Node's net.md since nodejs/node#54194); @types/node 20 has it on connect only.
  const options: SocketConstructorOpts & ConnectOpts = {
    fd,
    readable: true,
    writable: false,
    onread: { buffer: () => target.space(), callback: (bytes, into) => target.read(Buffer.from(into.buffer, into.byteOffset, bytes)) },
  };
  const socket = isatty(fd) ? new ReadStream(fd, options) : new Socket(options);
  socket.once('end', () => target.ended());
  socket.once('error', (error) => target.ended(error));
  return { resume: () => socket.resume(), close: () => socket.destroy() };
}

/** A file or a device, read with fs.read from where it stands; `fd` is left open (its opener closes it). */
export function fileReader(fd: number, target: ReadTarget): ChunkReader {
  let reading = false;
  let closed = false;
  const readOn = async () => {
    reading = true;
    try {
      while (!closed) {
        const into = target.space();
        const { bytesRead } = await readFdAsync(fd, into, 0, into.length, null);
        if (bytesRead === 0) return target.ended();
        if (!target.read(into.subarray(0, bytesRead))) return;
      }
    } catch (error) {
      target.ended(error as Error);
    } finally {
      reading = false;
    }
  };
  return {
    resume: () => {
      if (!reading) void readOn();
    },
    close: () => (closed = true),
  };
}
