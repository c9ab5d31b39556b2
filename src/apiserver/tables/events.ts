/** `kubectl get events`, as upstream's printEvent. */
import type { Event } from 'kubernetes-types/core/v1';
import { column, definePrinter, nameColumn, nameOf, since, timeOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  column('Last Seen', 'string', fieldDoc['Event.lastTimestamp']),
  column('Type', 'string', fieldDoc['Event.type']),
  column('Reason', 'string', fieldDoc['Event.reason']),
  column('Object', 'string', fieldDoc['Event.involvedObject']),
  column('Subobject', 'string', fieldDoc['ObjectReference.fieldPath'], 1),
  column('Source', 'string', fieldDoc['Event.source'], 1),
  column('Message', 'string', fieldDoc['Event.message']),
  column('First Seen', 'string', fieldDoc['Event.firstTimestamp'], 1),
  column('Count', 'string', fieldDoc['Event.count'], 1),
  { ...nameColumn, priority: 1 },
];

/** `component, host`, each falling back to the events.k8s.io reporting fields. */
function source(e: Event): string {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

export const eventsTable = definePrinter<Event>(columns, (e, now) => {
  const first = timeOf(e.firstTimestamp) !== undefined ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = timeOf(e.lastTimestamp) !== undefined ? since(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Events written through events.k8s.io leave count unset for a single occurrence.
    count = 1;
  }
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  const target = e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
  return [last, e.type ?? '', e.reason ?? '', target, e.involvedObject.fieldPath ?? '', source(e), (e.message ?? '').trim(), first, count, nameOf(e)];
});
