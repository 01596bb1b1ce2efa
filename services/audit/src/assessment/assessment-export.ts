import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { SERVICE_MODES } from '@gdx/contracts';
import type { Period } from './assessment-metrics';
import type { UnitAssessment } from './assessment.service';

type Column = [header: string, value: (u: UnitAssessment) => string | number | null];

const usageColumns = (side: 'given' | 'received'): Column[] =>
  SERVICE_MODES.flatMap((mode): Column[] => [
    [`usage.${side}.${mode}.calls`, (u) => u.usage[side][mode].calls],
    [`usage.${side}.${mode}.rows`, (u) => u.usage[side][mode].rows],
  ]);

/** One sheet per section (and the scores); the CSV is every column of every sheet, one row per unit. */
const SECTIONS: [sheet: string, columns: Column[]][] = [
  [
    'Scores',
    [
      ['score', (u) => u.score],
      ['penalties', (u) => u.penalties],
      ['components.publication', (u) => u.components.publication],
      ['components.timeliness', (u) => u.components.timeliness],
      ['components.responsiveness', (u) => u.components.responsiveness],
      ['components.legality', (u) => u.components.legality],
      ['components.usage', (u) => u.components.usage],
      ['components.objections', (u) => u.components.objections],
    ],
  ],
  [
    'Catalogue',
    [
      ['catalogue.resourcesCatalogued', (u) => u.catalogue.resourcesCatalogued],
      ['catalogue.resourcesPublished', (u) => u.catalogue.resourcesPublished],
      ['catalogue.publishedShare', (u) => u.catalogue.publishedShare],
      ['catalogue.recordsHeld', (u) => u.catalogue.recordsHeld],
      ['catalogue.byFormat', (u) => JSON.stringify(u.catalogue.byFormat)],
      ['catalogue.byClass', (u) => JSON.stringify(u.catalogue.byClass)],
    ],
  ],
  [
    'Timeliness',
    [
      ['timeliness.resourcesAssessed', (u) => u.timeliness.resourcesAssessed],
      ['timeliness.resourcesTimely', (u) => u.timeliness.resourcesTimely],
      ['timeliness.timelyShare', (u) => u.timeliness.timelyShare],
      ['timeliness.daysOverdue', (u) => u.timeliness.daysOverdue],
    ],
  ],
  [
    'Requests',
    [
      ['requests.received', (u) => u.requests.received],
      ['requests.answered', (u) => u.requests.answered],
      ['requests.answerDaysMedian', (u) => u.requests.answerDaysMedian],
      ['requests.answerDaysP90', (u) => u.requests.answerDaysP90],
      ['requests.delayed', (u) => u.requests.delayed],
      ['requests.refusedWithBasis', (u) => u.requests.refusedWithBasis],
      ['requests.refusedWithoutBasis', (u) => u.requests.refusedWithoutBasis],
    ],
  ],
  ['Usage', [...usageColumns('given'), ...usageColumns('received')]],
  [
    'Cases',
    [
      ['cases.objectionsReceived', (u) => u.cases.objectionsReceived],
      ['cases.objectionsAnsweredInTime', (u) => u.cases.objectionsAnsweredInTime],
      ['cases.objectionsOverdue', (u) => u.cases.objectionsOverdue],
      ['cases.complaintsReceived', (u) => u.cases.complaintsReceived],
      ['cases.rectificationOrders', (u) => u.cases.rectificationOrders],
      ['cases.circulars', (u) => u.cases.circulars],
    ],
  ],
];

const LEAD: Column[] = [
  ['rank', (u) => u.rank],
  ['unitId', (u) => u.unitId],
  ['unitName', (u) => u.unitName],
];

export function assessmentCsv(units: UnitAssessment[]): string {
  const columns = [...LEAD, ...SECTIONS.flatMap(([, c]) => c)];
  return stringify([columns.map(([h]) => h), ...units.map((u) => columns.map(([, v]) => v(u) ?? ''))]);
}

export async function assessmentWorkbook(period: Period, units: UnitAssessment[]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'GDX';
  book.title = `考核 ${period.id}`;
  for (const [name, columns] of SECTIONS) {
    const sheet = book.addWorksheet(name);
    const all = [...LEAD, ...columns];
    sheet.columns = all.map(([header]) => ({ header, key: header, width: Math.max(12, header.length + 2) }));
    for (const u of units) sheet.addRow(all.map(([, v]) => v(u)));
    sheet.getRow(1).font = { bold: true };
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** A horizontal bar chart of scores by unit, best first, for the yearly report. */
export function assessmentSvg(period: Period, units: UnitAssessment[]): string {
  const bar = 22;
  const gap = 8;
  const label = 220;
  const width = 760;
  const plot = width - label - 60;
  const top = 48;
  const height = top + units.length * (bar + gap) + 24;
  const rows = units.map((u, i) => {
    const y = top + i * (bar + gap);
    const w = Math.round((plot * u.score) / 100);
    return [
      `<text x="${label - 8}" y="${y + bar * 0.7}" text-anchor="end">${escapeXml(u.unitName)}</text>`,
      `<rect x="${label}" y="${y}" width="${w}" height="${bar}" fill="#2f6fb0"><title>${escapeXml(`${u.unitName}: ${u.score}`)}</title></rect>`,
      `<text x="${label + w + 6}" y="${y + bar * 0.7}">${u.score}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<title>${escapeXml(`Assessment scores ${period.id}`)}</title>`,
    `<text x="${label}" y="28" font-size="16" font-weight="bold">${escapeXml(`考核得分 ${period.id}`)}</text>`,
    ...rows,
    `</svg>`,
    '',
  ].join('\n');
}
