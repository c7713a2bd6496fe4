// Streams and cached answers: a stream's chunks folded back into one completion (what is stored),
// and a stored completion unfolded into chunks again (what a streamed hit replays through the
// client dialect's own stream encoder).
import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, FinishReason, ToolCall, Usage } from '../core/canonical.ts';

interface ChoiceDraft {
  content: string;
  reasoning: string;
  refusal: string;
  tools: Map<number, ToolCall>;
  finish: FinishReason | null;
  sawContent: boolean;
}

export class CompletionAssembler {
  private id = '';
  private model = '';
  private created = 0;
  private fingerprint: string | null | undefined;
  private usage: Usage | undefined;
  private readonly choices = new Map<number, ChoiceDraft>();

  add(chunk: ChatCompletionChunk): void {
    if (chunk.id && !this.id) this.id = chunk.id;
    if (chunk.model && !this.model) this.model = chunk.model;
    if (chunk.created && !this.created) this.created = chunk.created;
    if (chunk.system_fingerprint !== undefined) this.fingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      let draft = this.choices.get(choice.index);
      if (!draft) this.choices.set(choice.index, (draft = { content: '', reasoning: '', refusal: '', tools: new Map(), finish: null, sawContent: false }));
      const delta = choice.delta;
      if (typeof delta.content === 'string') {
        draft.content += delta.content;
        if (delta.content.length > 0) draft.sawContent = true;
      }
      if (delta.reasoning_content) draft.reasoning += delta.reasoning_content;
      if (delta.refusal) draft.refusal += delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        let tool = draft.tools.get(call.index);
        if (!tool) draft.tools.set(call.index, (tool = { id: call.id ?? '', type: 'function', function: { name: '', arguments: '' } }));
        if (call.id) tool.id = call.id;
        if (call.function?.name) tool.function.name += call.function.name;
        if (call.function?.arguments) tool.function.arguments += call.function.arguments;
      }
      if (choice.finish_reason) draft.finish = choice.finish_reason;
    }
  }

  /** The whole completion, or undefined when the stream never finished a choice. */
  completion(usage: Usage | undefined): ChatCompletion | undefined {
    if (this.choices.size === 0) return undefined;
    const choices: ChatCompletionChoice[] = [];
    for (const [index, d] of [...this.choices].sort((a, b) => a[0] - b[0])) {
      if (!d.finish) return undefined;
      const tools = [...d.tools.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
      choices.push({
        index,
        message: {
          role: 'assistant',
          content: d.sawContent || tools.length === 0 ? d.content : null,
          ...(tools.length > 0 ? { tool_calls: tools } : {}),
          ...(d.reasoning ? { reasoning_content: d.reasoning } : {}),
          ...(d.refusal ? { refusal: d.refusal } : {}),
        },
        finish_reason: d.finish,
      });
    }
    const completion: ChatCompletion = { id: this.id, object: 'chat.completion', created: this.created || Math.floor(Date.now() / 1000), model: this.model, choices };
    const finalUsage = this.usage ?? usage;
    if (finalUsage) completion.usage = finalUsage;
    if (this.fingerprint !== undefined) completion.system_fingerprint = this.fingerprint;
    return completion;
  }
}

/** Characters per replayed content delta: small enough to look like a stream, few enough to be cheap. */
const PIECE = 64;

/** The chunks of a stream that would have produced `completion`: role, content, tool calls, finish, usage. */
export function completionChunks(completion: ChatCompletion, id: string, created: number): ChatCompletionChunk[] {
  const base = { id, object: 'chat.completion.chunk' as const, created, model: completion.model };
  const out: ChatCompletionChunk[] = [];
  for (const choice of completion.choices) {
    const index = choice.index;
    const m = choice.message;
    out.push({ ...base, choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    if (m.reasoning_content) {
      for (let i = 0; i < m.reasoning_content.length; i += PIECE) {
        out.push({ ...base, choices: [{ index, delta: { reasoning_content: m.reasoning_content.slice(i, i + PIECE) }, finish_reason: null }] });
      }
    }
    const content = m.content ?? '';
    for (let i = 0; i < content.length; i += PIECE) out.push({ ...base, choices: [{ index, delta: { content: content.slice(i, i + PIECE) }, finish_reason: null }] });
    if (m.refusal) out.push({ ...base, choices: [{ index, delta: { refusal: m.refusal }, finish_reason: null }] });
    m.tool_calls?.forEach((call, k) => {
      out.push({
        ...base,
        choices: [{ index, delta: { tool_calls: [{ index: k, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }, finish_reason: null }],
      });
    });
    out.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  if (completion.usage) out.push({ ...base, choices: [], usage: completion.usage });
  return out;
}
