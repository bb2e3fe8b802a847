/**
 * A loader worker thread: generates a range of patients' pointers and passes every one through
 * the API's create path without HTTP (stage A and B validation, the custodian and type checks
 * against the provider's grant, a server id), then encodes the rows the API's writer would
 * insert (`newPointerRows`) as COPY text. The main thread only streams the text to PostgreSQL.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkCustodian, checkTypePermitted, creationDate, newPointerId, validatePointer } from '@nir/core';
import { loadPublishedProfiles } from '@nir/server';
import { newPointerRows } from '@nir/store';
import { copyLine } from './copy-text.ts';
import { benchPatient, benchPointer } from './generate.ts';
import {
  HISTORY_COLUMNS,
  LOCATOR_COLUMNS,
  type LoadChunk,
  type LoadTask,
  type LoadWorkerData,
  PATIENT_COLUMNS,
  POINTER_COLUMNS,
} from './load-protocol.ts';

const data = workerData as LoadWorkerData;
const { pointerSchema } = await loadPublishedProfiles(data.profilesDir);
const loadNow = new Date(data.now);

function build(task: LoadTask): LoadChunk {
  const chunk: LoadChunk = { pointer: '', locator: '', history: '', patients: '', pointers: 0 };
  for (let index = task.from; index < task.to; index++) {
    const patient = benchPatient(data.seed, index);
    chunk.patients += copyLine(
      { i: index, nhs_number: patient.nhsNumber, pointers: patient.pointers },
      PATIENT_COLUMNS,
    );
    for (let n = 0; n < patient.pointers; n++) {
      const body = JSON.parse(JSON.stringify(benchPointer(data.seed, patient, n, loadNow)));
      // The API's create path (PointerService.prepareCreate), minus HTTP.
      const pointer = validatePointer(pointerSchema, body, 'create');
      const custodian = pointer.custodian?.identifier?.value ?? '';
      const grant = data.grants[custodian];
      if (!grant) throw new Error(`no producer grant for ${custodian}`);
      checkCustodian(pointer, custodian);
      checkTypePermitted(pointer, grant);
      const id = newPointerId(custodian);
      // A backfill: each pointer is written as of its own report date.
      const now = new Date(pointer.date ?? data.now);
      const rows = newPointerRows(
        { pointer, id, date: creationDate(pointer, now, false), now },
        1,
        { requestId: `bench-load-${task.from}`, clientId: 'bench-loader' },
        'create',
      );
      chunk.pointer += copyLine(rows.pointer, POINTER_COLUMNS);
      chunk.history += copyLine(rows.history, HISTORY_COLUMNS);
      chunk.locator += copyLine(
        { id, nhs_number: patient.nhsNumber, custodian, version: 1, deleted: false },
        LOCATOR_COLUMNS,
      );
      chunk.pointers += 1;
    }
  }
  return chunk;
}

parentPort?.on('message', (task: LoadTask) => {
  try {
    parentPort?.postMessage({ ok: true, chunk: build(task) });
  } catch (error) {
    const outcome = (error as { outcome?: unknown }).outcome;
    parentPort?.postMessage({ ok: false, error: outcome ? JSON.stringify(outcome) : String(error) });
  }
});
parentPort?.postMessage({ ready: true });
