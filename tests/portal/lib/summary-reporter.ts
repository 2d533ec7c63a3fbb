// Prints one plain closing line, `portal: N passed, N failed, N skipped`, after Playwright's own.
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SummaryReporter implements Reporter {
  private outcome = new Map<string, string>();

  onTestEnd(test: TestCase, result: TestResult): void {
    // The last result of a test decides (retries are off, but stay correct if turned on).
    this.outcome.set(test.id, result.status);
  }

  onEnd(_result: FullResult): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const status of this.outcome.values()) {
      if (status === 'passed') passed++;
      else if (status === 'skipped') skipped++;
      else failed++;
    }
    console.log(`portal: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
