/**
 * Okapi BM25 (Robertson & Zaragoza 2009) over product titles and descriptions,
 * the ranking WebShop's search engine (Pyserini/Lucene BM25) uses:
 *
 *   score(d, q) = sum_{t in q} idf(t) * f(t,d) * (k1 + 1) / (f(t,d) + k1 * (1 - b + b * |d| / avgdl))
 *   idf(t)      = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))
 *
 * with Lucene's defaults k1 = 0.9, b = 0.4. Ties keep catalogue order.
 */
export interface Bm25Options {
  readonly k1?: number;
  readonly b?: number;
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:\.[0-9]+)?/g) ?? [];
}

export class Bm25Index {
  private readonly termFreqs: Map<string, number>[] = [];
  private readonly lengths: number[] = [];
  private readonly docFreq = new Map<string, number>();
  private readonly avgLength: number;
  private readonly k1: number;
  private readonly b: number;

  constructor(documents: readonly string[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 0.9;
    this.b = options.b ?? 0.4;
    let total = 0;
    for (const doc of documents) {
      const tf = new Map<string, number>();
      const tokens = tokenize(doc);
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) this.docFreq.set(t, (this.docFreq.get(t) ?? 0) + 1);
      this.termFreqs.push(tf);
      this.lengths.push(tokens.length);
      total += tokens.length;
    }
    this.avgLength = documents.length ? total / documents.length : 0;
  }

  idf(term: string): number {
    const n = this.docFreq.get(term) ?? 0;
    const N = this.termFreqs.length;
    return Math.log(1 + (N - n + 0.5) / (n + 0.5));
  }

  score(query: string, doc: number): number {
    return this.scoreTokens(tokenize(query), doc);
  }

  private scoreTokens(terms: readonly string[], doc: number): number {
    const tf = this.termFreqs[doc]!;
    const norm = this.k1 * (1 - this.b + (this.b * this.lengths[doc]!) / this.avgLength);
    let s = 0;
    for (const term of terms) {
      const f = tf.get(term);
      if (!f) continue;
      s += (this.idf(term) * f * (this.k1 + 1)) / (f + norm);
    }
    return s;
  }

  /** Indices of documents with a positive score, best first, at most `limit`. */
  search(query: string, limit: number): number[] {
    const terms = tokenize(query);
    const scored: { doc: number; s: number }[] = [];
    for (let d = 0; d < this.termFreqs.length; d++) {
      const s = this.scoreTokens(terms, d);
      if (s > 0) scored.push({ doc: d, s });
    }
    scored.sort((x, y) => y.s - x.s || x.doc - y.doc);
    return scored.slice(0, limit).map((x) => x.doc);
  }
}
