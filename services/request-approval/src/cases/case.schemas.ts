import { Type, type Static } from '@sinclair/typebox';
import { CASE_STATUSES, CASE_TYPES, StringEnum } from '@gdx/contracts';
import { PageQuery } from '@gdx/service-kit';
import { AttachmentSchema, TransitionSchema } from '../requests/request.schemas';
import { DOCUMENT_KINDS } from '../entities/case-document.entity';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Uuid = Type.String({ format: 'uuid' });
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 8000, description });
const Attachments = Type.Optional(Type.Array(AttachmentSchema, { maxItems: 20, description: 'Evidence: metadata and SHA-256 of each file (the files are kept elsewhere).' }));

export const COMPLAINT_CATEGORIES = ['refusal_without_basis', 'late_provision', 'stale_data', 'misuse', 'other'] as const;

// ——— objections (异议, Art. 18) ———
export const OpenObjectionSchema = Type.Object(
  {
    resourceCode: Type.String({ minLength: 1, maxLength: 64, description: 'A resource the caller’s unit holds (or held) a grant for.' }),
    recordKeys: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000, description: 'Key values of the records concerned.' })),
    items: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'Items concerned; each must be in the unit’s grant.' })),
    description: Text('What is wrong with the data.'),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type OpenObjectionInput = Static<typeof OpenObjectionSchema>;

export const AnswerObjectionSchema = Type.Object(
  {
    outcome: Type.Union([Type.Literal('corrected'), Type.Literal('confirmed')], {
      description: 'corrected: a later data batch fixed it (name it); confirmed: the data is right, explained in the text.',
    }),
    changeSeq: Type.Optional(Type.Integer({ minimum: 1, description: 'corrected: the change sequence of the accepted data batch that corrected the data, later than the objection.' })),
    text: Text('The written answer.'),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type AnswerObjectionInput = Static<typeof AnswerObjectionSchema>;

export const DecideSchema = Type.Object(
  {
    decision: Type.Union([Type.Literal('upheld'), Type.Literal('dismissed')], {
      description: 'upheld: the objection is right (the office may order rectification); dismissed: the provider’s answer stands.',
    }),
    text: Text('The office’s written decision.'),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type DecideInput = Static<typeof DecideSchema>;

// ——— complaints (投诉, Art. 29) ———
export const OpenComplaintSchema = Type.Object(
  {
    respondentUnitId: Type.String({ format: 'uuid', description: 'The unit complained about.' }),
    category: StringEnum(COMPLAINT_CATEGORIES),
    description: Text('What happened.'),
    resourceCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    requestId: Type.Optional(Type.String({ format: 'uuid', description: 'The share request concerned, if any.' })),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type OpenComplaintInput = Static<typeof OpenComplaintSchema>;

export const AssignSchema = Type.Object(
  {
    assigneeId: Type.String({ minLength: 1, maxLength: 200, description: 'The office account investigating.' }),
    comment: Type.Optional(Text('Instructions to the investigator.')),
  },
  { additionalProperties: false },
);
export type AssignInput = Static<typeof AssignSchema>;

export const AnswerComplaintSchema = Type.Object(
  {
    finding: Type.Union([Type.Literal('substantiated'), Type.Literal('unsubstantiated')]),
    text: Text('The office’s written answer to the complainant.'),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type AnswerComplaintInput = Static<typeof AnswerComplaintSchema>;

// ——— rectification orders (限期整改, Art. 30) ———
export const OpenRectificationSchema = Type.Object(
  {
    unitId: Type.String({ format: 'uuid', description: 'The unit ordered to rectify.' }),
    problems: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 50 }),
    dueDate: Type.String({ format: 'date', description: 'The last day (local civil date) to report the rectification; later than today.' }),
    originCaseId: Type.Optional(Type.String({ format: 'uuid', description: 'The complaint or objection the order comes from; it must be against the same unit.' })),
    text: Type.Optional(Text('The order’s text; the problems are listed in it when left out.')),
    attachments: Attachments,
  },
  { additionalProperties: false },
);
export type OpenRectificationInput = Static<typeof OpenRectificationSchema>;

export const ReportSchema = Type.Object({ text: Text('What the unit did to rectify.'), attachments: Attachments }, { additionalProperties: false });
export type ReportInput = Static<typeof ReportSchema>;

// ——— shared ———
export const CommentSchema = Type.Object({ comment: Type.Optional(Text('A remark kept with the step.')) }, { additionalProperties: false });
export const ReasonSchema = Type.Object({ reason: Text('Why (kept in the case’s history).') }, { additionalProperties: false });
export const OptionalReasonSchema = Type.Object({ reason: Type.Optional(Text('Why (kept in the case’s history).')) }, { additionalProperties: false });

export const CaseFilterSchema = Type.Object(
  {
    status: Type.Optional(StringEnum(CASE_STATUSES)),
    overdue: Type.Optional(Type.Boolean({ description: 'true: only cases flagged overdue.' })),
    unit: Type.Optional(Type.String({ format: 'uuid', description: 'Only cases this unit is a party to (either side).' })),
    role: Type.Optional(Type.Union([Type.Literal('opened'), Type.Literal('against')], { description: 'Only cases the caller’s unit opened, or only those against it.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Opened at or after.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Opened before.' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type CaseFilter = Static<typeof CaseFilterSchema>;

export const CaseSchema = Type.Object(
  {
    id: Uuid,
    number: Type.String({ description: 'Year and sequence: YY- objection, TS- complaint, ZG- rectification order.' }),
    type: StringEnum(CASE_TYPES),
    status: StringEnum(CASE_STATUSES),
    openedByUnitId: Uuid,
    openedBy: Type.String(),
    againstUnitId: Type.String({ format: 'uuid', description: 'The provider objected to, the unit complained about, or the unit ordered to rectify.' }),
    resourceCode: Nullable(Type.String()),
    summary: Type.String(),
    deadline: Nullable(Type.String({ format: 'date-time', description: 'The next party acts before this instant (working days, see the calendar); null when nothing is awaited.' })),
    overdue: Type.Boolean({ description: 'The deadline passed with nothing done; stays set (it counts in assessment).' }),
    overdueAt: Nullable(DateTime),
    closedAt: Nullable(DateTime),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer(),
    recordKeys: Type.Optional(Type.Array(Type.String())),
    items: Type.Optional(Type.Array(Type.String())),
    grantId: Type.Optional(Uuid),
    category: Type.Optional(StringEnum(COMPLAINT_CATEGORIES)),
    requestId: Type.Optional(Nullable(Uuid)),
    assigneeId: Type.Optional(Nullable(Type.String())),
    rectificationIds: Type.Optional(Type.Array(Uuid)),
    problems: Type.Optional(Type.Array(Type.String())),
    dueDate: Type.Optional(Type.String({ format: 'date' })),
    returns: Type.Optional(Type.Integer({ description: 'How often the office sent the report back; the second time makes a circular.' })),
    originCaseId: Type.Optional(Nullable(Uuid)),
    circularId: Type.Optional(Nullable(Uuid)),
  },
  { $id: 'Case', additionalProperties: false },
);

export const CaseDocumentSchema = Type.Object(
  {
    id: Uuid,
    kind: StringEnum(DOCUMENT_KINDS),
    authorUnitId: Uuid,
    authorKind: Type.String(),
    authorId: Type.String(),
    text: Type.String(),
    attachments: Type.Array(AttachmentSchema),
    outcome: Nullable(Type.Object({}, { additionalProperties: true, description: 'What the text decides: an objection answer’s outcome and changeSeq, a decision, a finding.' })),
    at: DateTime,
  },
  { additionalProperties: false },
);

export const CaseDetailSchema = Type.Object(
  {
    ...CaseSchema.properties,
    documents: Type.Array(CaseDocumentSchema, { description: 'Every written text, in order; never changed once given.' }),
    transitions: Type.Array(TransitionSchema),
  },
  { additionalProperties: false },
);

export const CircularSchema = Type.Object(
  {
    id: Uuid,
    number: Type.String({ description: 'e.g. TB-2026-0001.' }),
    caseId: Uuid,
    caseNumber: Type.String(),
    unitId: Type.String({ format: 'uuid', description: 'The unit criticised.' }),
    reason: Type.Union([Type.Literal('overdue'), Type.Literal('failed_twice')]),
    text: Type.String(),
    publishedAt: DateTime,
  },
  { $id: 'Circular', additionalProperties: false },
);
