/** What an event (a wait channel) is to Tru64: a non-zero machine address. Not part of the API. */
import { describe_value, misuse } from '../../contract/index.ts';

/** An event must be a non-zero integer address; report and refuse anything else. */
export function bad_event(call: string, event: unknown): boolean {
  if (Number.isInteger(event) && event !== 0) return false;
  misuse(call, `event ${describe_value(event)} is not a wait channel: pass a machine address, e.g. addressof(sc, FIELD)`, {
    event: describe_value(event),
  });
  return true;
}
