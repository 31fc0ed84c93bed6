/** errno values (Linux, include/uapi/asm-generic/errno-base.h and errno.h). */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EDEADLK = 35;
export const ENOSYS = 38;
/** Timer expired (down_timeout). */
export const ETIME = 62;
export const ETIMEDOUT = 110;
export const ERESTARTSYS = 512;

const NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC',
  9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY',
  17: 'EEXIST', 19: 'ENODEV', 21: 'EISDIR', 22: 'EINVAL', 28: 'ENOSPC', 35: 'EDEADLK', 38: 'ENOSYS',
  62: 'ETIME',  110: 'ETIMEDOUT', 512: 'ERESTARTSYS',
};

/** "-EINVAL" for -22; the number itself when it has no name. */
export function errname(err: number): string {
  const n = NAMES[Math.abs(err)];
  return n ? (err < 0 ? `-${n}` : n) : String(err);
}

export const MAX_ERRNO = 4095;

/** ERR_PTR: an errno carried where a pointer (a thread handle) is expected. */
export type ErrPtr = number & { readonly __errptr?: never };

export function ERR_PTR(error: number): ErrPtr {
  return error as ErrPtr;
}
export function PTR_ERR(ptr: unknown): number {
  return typeof ptr === 'number' ? ptr : 0;
}
export function IS_ERR(ptr: unknown): ptr is ErrPtr {
  return typeof ptr === 'number' && ptr < 0 && ptr >= -MAX_ERRNO;
}
export function IS_ERR_OR_NULL(ptr: unknown): ptr is ErrPtr | null | undefined {
  return ptr === null || ptr === undefined || IS_ERR(ptr);
}
export function PTR_ERR_OR_ZERO(ptr: unknown): number {
  return IS_ERR(ptr) ? ptr : 0;
}
