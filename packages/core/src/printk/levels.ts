/** Log levels: Linux's KERN_* prefixes (include/linux/kern_levels.h) and their pino levels. */
export const KERN_SOH = '\x01';
export const KERN_EMERG = KERN_SOH + '0';
export const KERN_ALERT = KERN_SOH + '1';
export const KERN_CRIT = KERN_SOH + '2';
export const KERN_ERR = KERN_SOH + '3';
export const KERN_WARNING = KERN_SOH + '4';
export const KERN_NOTICE = KERN_SOH + '5';
export const KERN_INFO = KERN_SOH + '6';
export const KERN_DEBUG = KERN_SOH + '7';
export const KERN_DEFAULT = '';
export const KERN_CONT = KERN_SOH + 'c';

export const LOGLEVEL_EMERG = 0;
export const LOGLEVEL_ALERT = 1;
export const LOGLEVEL_CRIT = 2;
export const LOGLEVEL_ERR = 3;
export const LOGLEVEL_WARNING = 4;
export const LOGLEVEL_NOTICE = 5;
export const LOGLEVEL_INFO = 6;
export const LOGLEVEL_DEBUG = 7;
/** CONFIG_MESSAGE_LOGLEVEL_DEFAULT */
export const MESSAGE_LOGLEVEL_DEFAULT = LOGLEVEL_WARNING;

export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

/** pino's level for a kernel log level. */
export function pino_level(level: number): 'fatal' | 'error' | 'warn' | 'info' | 'debug' {
  if (level <= LOGLEVEL_CRIT) return 'fatal';
  if (level === LOGLEVEL_ERR) return 'error';
  if (level === LOGLEVEL_WARNING) return 'warn';
  if (level <= LOGLEVEL_INFO) return 'info';
  return 'debug';
}

/**
 * A printk format's prefixes (printk_parse_prefix in kernel/printk/printk.c): any run of KERN_*
 * levels and KERN_CONT; the first level wins, a format with none has MESSAGE_LOGLEVEL_DEFAULT.
 */
export function printk_parse_prefix(fmt: string): { level: number; cont: boolean; body: string } {
  let level = -1;
  let cont = false;
  let at = 0;
  while (fmt.charCodeAt(at) === 1 && at + 1 < fmt.length) {
    const c = fmt.charCodeAt(at + 1) - 48;
    if (c >= 0 && c <= 7) {
      if (level < 0) level = c;
    } else if (fmt[at + 1] === 'c') cont = true;
    else break;
    at += 2;
  }
  return { level: level < 0 ? MESSAGE_LOGLEVEL_DEFAULT : level, cont, body: at ? fmt.slice(at) : fmt };
}

/** Split a printk format into its level and the rest. */
export function printk_get_level(fmt: string): [number, string] {
  if (fmt.charCodeAt(0) === 1 && fmt.length >= 2) {
    const c = fmt.charCodeAt(1) - 48;
    if (c >= 0 && c <= 7) return [c, fmt.slice(2)];
    if (fmt[1] === 'c') return [MESSAGE_LOGLEVEL_DEFAULT, fmt.slice(2)];
  }
  return [MESSAGE_LOGLEVEL_DEFAULT, fmt];
}
