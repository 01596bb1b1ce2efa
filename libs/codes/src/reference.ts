import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReferenceUnit {
  key: string;
  name: string;
  /** office, provider or consumer in the reference data. */
  kind: string;
  regionCode: string;
  creditCode: string;
}

export interface ReferenceData {
  units: ReferenceUnit[];
  regions: Record<string, string>;
  sexCodes: Record<string, string>;
  baseDatabases: Record<string, string>;
  updateCycles: Record<string, string>;
  formats: string[];
  sharingTypes: Record<string, string>;
  serviceModes: Record<string, string>;
  resources: Record<string, unknown>[];
  commitment: { version: string; title: string; text: string };
  filingForm: { title: string; fields: { key: string; label: string }[] };
  checkDigitVectors: { residentId: string[]; creditCode: string[] };
}

let cached: ReferenceData | undefined;

/** The reference data shipped with the platform (a copy of shared/data/reference.json). */
export function referenceData(): ReferenceData {
  cached ??= JSON.parse(readFileSync(join(__dirname, '..', 'data', 'reference.json'), 'utf8')) as ReferenceData;
  return cached;
}

export function isRegionCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(referenceData().regions, code);
}

export function isSexCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(referenceData().sexCodes, code);
}
