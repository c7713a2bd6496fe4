// Canonical chunks → Responses API streaming events, each numbered by `sequence_number`:
// response.created, response.in_progress, then per output item output_item.added → (content_part.added
// → output_text.delta* → output_text.done → content_part.done | function_call_arguments.delta* →
// function_call_arguments.done) → output_item.done, and finally response.completed (or
// response.incomplete). One item is open at a time; a failure ends with `error` + `response.failed`.
import type { ChatCompletionChunk, FinishReason, ToolCallDelta, Usage } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import type { StreamEncoder } from '../types.ts';
import { itemId } from './ids.ts';
import type { ResponsesRequest } from './request.ts';
import { baseResponse, failResponse, finishResponse, responsesUsage, type ResponseIdentity } from './response.ts';
import type { FunctionCallItem, OutputMessageItem, ResponseObject } from './types.ts';

interface OpenMessage {
  kind: 'message';
  item: OutputMessageItem;
  outputIndex: number;
  /** The content part being streamed, if any. */
  part?: { type: 'output_text' | 'refusal'; index: number; value: string };
}

interface OpenCall {
  kind: 'call';
  item: FunctionCallItem;
  outputIndex: number;
}

export interface ResponsesStreamOptions {
  /**
   * Leave the terminal event (`response.completed` / `response.incomplete`) out of `end()`; the caller
   * writes `terminal()` once the response is stored, so a client that reacts to it can rely on it.
   */
  holdTerminal?: boolean;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private response: ResponseObject | undefined;
  private open: OpenMessage | OpenCall | undefined;
  /** Canonical tool_calls[].index → its output item. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;
  private state: 'streaming' | 'ended' | 'failed' = 'streaming';
  /**
   * True once content, a tool call or reasoning arrived: the moment the gateway's stream relay commits
   * to this attempt (reasoning is not rendered, but it commits all the same).
   */
  sawContent = false;

  constructor(
    private readonly identity: ResponseIdentity,
    private readonly req: ResponsesRequest,
    private readonly options: ResponsesStreamOptions = {},
  ) {}

  get ended(): boolean {
    return this.state === 'ended';
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  chunk(chunk: ChatCompletionChunk): string {
    if (this.state !== 'streaming') return '';
    let out = this.response ? '' : this.start(chunk.model);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta.content || delta.tool_calls || delta.reasoning_content) this.sawContent = true;
    if (delta.content) out += this.text('output_text', delta.content);
    if (delta.refusal) out += this.text('refusal', delta.refusal);
    if (delta.tool_calls) for (const call of delta.tool_calls) out += this.toolCall(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /** Closes the open item; with `holdTerminal` the terminal event waits for `terminal()`. */
  end(): string {
    if (this.state !== 'streaming') return '';
    let out = this.response ? '' : this.start(this.req.model);
    out += this.closeOpen();
    this.state = 'ended';
    const response = this.snapshot();
    finishResponse(response, this.finish);
    for (const item of response.output) item.status = response.status === 'incomplete' ? 'incomplete' : 'completed';
    if (this.usage) response.usage = responsesUsage(this.usage);
    return this.options.holdTerminal ? out : out + this.terminal();
  }

  /** `response.completed` or `response.incomplete` with the final Response. */
  terminal(): string {
    const response = this.snapshot();
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    return this.event(type, `"response":${JSON.stringify(response)}`);
  }

  error(err: GatewayError): string {
    if (this.state !== 'streaming') return '';
    let out = this.response ? '' : this.start(this.req.model);
    this.state = 'failed';
    out += this.event('error', `"code":${JSON.stringify(err.code ?? err.errorClass)},"message":${JSON.stringify(err.message)},"param":${JSON.stringify(err.param)}`);
    const open = this.open;
    // The failed Response still shows what was streamed of the part that was cut.
    if (open?.kind === 'message' && open.part) {
      const { type, value } = open.part;
      open.item.content.push(type === 'output_text' ? { type, text: value, annotations: [], logprobs: [] } : { type, refusal: value });
    }
    const response = failResponse(this.snapshot(), err);
    for (const item of response.output) if (item.status === 'in_progress') item.status = 'incomplete';
    return out + this.event('response.failed', `"response":${JSON.stringify(response)}`);
  }

  /** The Response as streamed so far (final after `end()`). */
  snapshot(): ResponseObject {
    this.response ??= baseResponse(this.identity, this.req, this.req.model);
    return this.response;
  }

  private event(type: string, fields: string): string {
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.seq++},${fields}}\n\n`;
  }

  private start(model: string): string {
    this.response = baseResponse(this.identity, this.req, model || this.req.model);
    const json = JSON.stringify(this.response);
    return this.event('response.created', `"response":${json}`) + this.event('response.in_progress', `"response":${json}`);
  }

  private addItem(item: OutputMessageItem | FunctionCallItem): { out: string; outputIndex: number } {
    const output = this.snapshot().output;
    const outputIndex = output.length;
    output.push(item);
    // The added event carries the item as it starts out (empty), not the live object.
    const started = item.type === 'message' ? { ...item, content: [] } : { ...item, arguments: '' };
    return { out: this.event('response.output_item.added', `"output_index":${outputIndex},"item":${JSON.stringify(started)}`), outputIndex };
  }

  private text(type: 'output_text' | 'refusal', value: string): string {
    let out = '';
    if (this.open?.kind !== 'message') {
      out += this.closeOpen();
      const item: OutputMessageItem = { id: itemId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] };
      const added = this.addItem(item);
      out += added.out;
      this.open = { kind: 'message', item, outputIndex: added.outputIndex };
    }
    const open = this.open;
    if (open.part?.type !== type) {
      out += this.closePart(open);
      const index = open.item.content.length;
      open.part = { type, index, value: '' };
      const part = type === 'output_text' ? '{"type":"output_text","text":"","annotations":[],"logprobs":[]}' : '{"type":"refusal","refusal":""}';
      out += this.event('response.content_part.added', `"item_id":"${open.item.id}","output_index":${open.outputIndex},"content_index":${index},"part":${part}`);
    }
    const part = open.part as NonNullable<OpenMessage['part']>;
    part.value += value;
    const where = `"item_id":"${open.item.id}","output_index":${open.outputIndex},"content_index":${part.index}`;
    return type === 'output_text'
      ? out + this.event('response.output_text.delta', `${where},"delta":${JSON.stringify(value)},"logprobs":[]`)
      : out + this.event('response.refusal.delta', `${where},"delta":${JSON.stringify(value)}`);
  }

  private toolCall(delta: ToolCallDelta): string {
    let out = '';
    let call = this.calls.get(delta.index);
    if (!call) {
      out += this.closeOpen();
      const item: FunctionCallItem = { id: itemId('fc'), type: 'function_call', call_id: delta.id ?? `call_${delta.index}`, name: delta.function?.name ?? '', arguments: '', status: 'in_progress' };
      const added = this.addItem(item);
      out += added.out;
      call = { kind: 'call', item, outputIndex: added.outputIndex };
      this.calls.set(delta.index, call);
      this.open = call;
    } else if (delta.function?.name && !call.item.name) {
      call.item.name = delta.function.name;
    }
    const args = delta.function?.arguments;
    if (args) {
      call.item.arguments += args;
      // Providers stream calls one after another; a late delta for a closed call still lands on its item.
      out += this.event('response.function_call_arguments.delta', `"item_id":"${call.item.id}","output_index":${call.outputIndex},"delta":${JSON.stringify(args)}`);
    }
    return out;
  }

  private closePart(open: OpenMessage): string {
    const part = open.part;
    if (!part) return '';
    open.part = undefined;
    const where = `"item_id":"${open.item.id}","output_index":${open.outputIndex},"content_index":${part.index}`;
    if (part.type === 'output_text') {
      const done = { type: 'output_text' as const, text: part.value, annotations: [], logprobs: [] };
      open.item.content.push(done);
      return (
        this.event('response.output_text.done', `${where},"text":${JSON.stringify(part.value)},"logprobs":[]`) +
        this.event('response.content_part.done', `${where},"part":${JSON.stringify(done)}`)
      );
    }
    const done = { type: 'refusal' as const, refusal: part.value };
    open.item.content.push(done);
    return this.event('response.refusal.done', `${where},"refusal":${JSON.stringify(part.value)}`) + this.event('response.content_part.done', `${where},"part":${JSON.stringify(done)}`);
  }

  private closeOpen(): string {
    const open = this.open;
    if (!open) return '';
    this.open = undefined;
    let out = '';
    if (open.kind === 'message') {
      out += this.closePart(open);
    } else {
      const { item } = open;
      out += this.event('response.function_call_arguments.done', `"item_id":"${item.id}","output_index":${open.outputIndex},"name":${JSON.stringify(item.name)},"arguments":${JSON.stringify(item.arguments)}`);
    }
    open.item.status = this.finish === 'length' || this.finish === 'content_filter' ? 'incomplete' : 'completed';
    return out + this.event('response.output_item.done', `"output_index":${open.outputIndex},"item":${JSON.stringify(open.item)}`);
  }
}
