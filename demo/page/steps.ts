/** A visible list of steps, each marked pending, running, done or failed, with its time. */

/** State of one step, also its `data-state` attribute for the stylesheet. */
export type StepState = 'pending' | 'running' | 'done' | 'failed';

interface StepElements {
  item: HTMLLIElement;
  detail: HTMLSpanElement;
  time: HTMLSpanElement;
}

/** Renders and updates an `<ol>` of steps. */
export class StepList {
  readonly #list: HTMLOListElement;
  #steps: StepElements[] = [];

  constructor(list: HTMLOListElement) {
    this.#list = list;
  }

  /** Replaces the list with `labels`, all pending. */
  reset(labels: readonly string[]): void {
    this.#steps = labels.map((label) => {
      const item = document.createElement('li');
      item.dataset['state'] = 'pending';

      const text = document.createElement('span');
      text.className = 'label';
      text.textContent = label;
      const detail = document.createElement('span');
      detail.className = 'detail';
      const time = document.createElement('span');
      time.className = 'time';

      text.append(detail);
      item.append(text, time);
      return { item, detail, time };
    });
    this.#list.replaceChildren(...this.#steps.map((step) => step.item));
  }

  /**
   * Runs `action` as step `index`: marks it running, then done with its time in milliseconds and
   * the text `describe` returns, or failed (and rethrows) when the action throws.
   */
  async run<T>(
    index: number,
    action: () => Promise<T>,
    describe?: (result: T) => string,
  ): Promise<T> {
    const step = this.#steps[index];
    if (step === undefined) {
      throw new RangeError(`step ${index} does not exist; the list has ${this.#steps.length}`);
    }
    step.item.dataset['state'] = 'running';

    const start = performance.now();
    try {
      const result = await action();
      step.time.textContent = `${(performance.now() - start).toFixed(1)} ms`;
      step.detail.textContent = describe === undefined ? '' : describe(result);
      step.item.dataset['state'] = 'done';
      return result;
    } catch (error) {
      step.time.textContent = `${(performance.now() - start).toFixed(1)} ms`;
      step.item.dataset['state'] = 'failed';
      throw error;
    }
  }
}
