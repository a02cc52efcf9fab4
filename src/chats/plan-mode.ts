/**
 * PLAN mode as the seeds run it (B20, issue #11): what a planning turn leaves on the chat. A turn
 * ends early when ask_user_question or propose_plan succeeds; the daemon stores what the tool
 * produced on the chat in the same transaction that makes it WAITING.
 */

export interface QuestionOption {
  label: string;
  description: string;
}

export interface PlanQuestion {
  header: string;
  question: string;
  options: QuestionOption[];
}

/** Chat.pendingQuestion: set by ask_user_question, cleared by the next USER message. */
export interface PendingQuestion {
  questions: PlanQuestion[];
  askedAt: string;
}

/** Chat.plan: the last plan propose_plan stored; approvePlan marks it approved. */
export interface ChatPlan {
  title: string;
  /** Markdown. */
  body: string;
  /** The plan file in the workspace; null when the chat had no workspace (the body is all). */
  path: string | null;
  proposedAt: string;
  approvedAt: string | null;
}

/** Why a tool ended the turn, and what the chat keeps of it. */
export type TurnEnd =
  | { kind: 'question'; questions: PlanQuestion[] }
  | { kind: 'plan'; plan: { title: string; body: string; path: string | null } };

/** The one file PLAN turns may write, relative to the workspace root. */
export const planFilePath = (chatId: string) => `.agentgraph/plans/${chatId}.md`;

export function readPendingQuestion(value: unknown): PendingQuestion | null {
  if (!value || typeof value !== 'object' || !Array.isArray((value as PendingQuestion).questions)) {
    return null;
  }
  return value as PendingQuestion;
}

export function readPlan(value: unknown): ChatPlan | null {
  if (!value || typeof value !== 'object' || typeof (value as ChatPlan).body !== 'string') {
    return null;
  }
  const plan = value as ChatPlan;
  return { ...plan, path: plan.path ?? null, approvedAt: plan.approvedAt ?? null };
}

/** The user message approvePlan inserts: the implementation turn starts from the approved plan. */
export function approvedPlanMessage(plan: ChatPlan, feedback: string | null): string {
  const lines = [
    'The plan below is approved. PLAN mode is over: implement it now.',
    ...(feedback ? ['', `Feedback: ${feedback}`] : []),
    '',
    `# ${plan.title}`,
    ...(plan.path ? [`(plan file: ${plan.path})`] : []),
    '',
    plan.body,
  ];
  return lines.join('\n');
}

/** The user message answerQuestion inserts: each question with its answer. */
export function answersMessage(question: PendingQuestion, answers: string[]): string {
  return question.questions
    .map((asked, index) => `${asked.header}: ${asked.question}\nAnswer: ${answers[index] ?? ''}`)
    .join('\n\n');
}

/** The system instruction of a PLAN turn: where the plan goes and how the turn ends. */
export function planModeInstruction(chatId: string, hasWorkspace: boolean): string {
  const file = planFilePath(chatId);
  return [
    'You are in PLAN mode: explore and plan, do not implement.',
    hasWorkspace
      ? `You may read files and run commands to explore; the only file you may write is the plan file ${file} (write_file / edit_files).`
      : 'There is no workspace yet: put the whole plan in propose_plan.',
    'Use ask_user_question when a decision needs the user (your turn ends until they answer).',
    'End with propose_plan once the plan is ready (your turn ends until the user approves it).',
  ].join('\n');
}
