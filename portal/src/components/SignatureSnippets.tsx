// "Verifying signatures": ARIA tabs (arrow keys, Home, End) with a snippet per language for the webhook's algorithm.
import { useRef, useState } from 'preact/hooks';
import { LANGUAGES, snippet, snippetIntro, type Language } from '../snippets';
import type { SignatureAlgo } from '../types';

const slug = (language: Language) => language.replace(/\W/g, '').toLowerCase();

export function SignatureSnippets({ algo, publicKey }: { algo: SignatureAlgo; publicKey: string | null }) {
  const [selected, setSelected] = useState<Language>('Node.js');
  const tabs = useRef<Record<string, HTMLButtonElement | null>>({});

  const onKeyDown = (event: KeyboardEvent) => {
    const index = LANGUAGES.indexOf(selected);
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: LANGUAGES.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = LANGUAGES[(target + LANGUAGES.length) % LANGUAGES.length]!;
    setSelected(next);
    tabs.current[next]?.focus();
  };

  return (
    <section aria-labelledby="verifying-heading" class="card">
      <h2 id="verifying-heading">Verifying signatures</h2>
      <p>{snippetIntro(algo)}</p>
      {algo === 'ed25519' && publicKey && (
        <p>
          Public key: <code class="break">{publicKey}</code>
        </p>
      )}
      <div role="tablist" aria-label="Language" class="tablist" onKeyDown={onKeyDown}>
        {LANGUAGES.map((language) => (
          <button
            key={language}
            ref={(element) => {
              tabs.current[language] = element;
            }}
            type="button"
            role="tab"
            id={`tab-${slug(language)}`}
            aria-selected={language === selected}
            aria-controls={`panel-${slug(language)}`}
            tabIndex={language === selected ? 0 : -1}
            onClick={() => setSelected(language)}
          >
            {language}
          </button>
        ))}
      </div>
      {LANGUAGES.map((language) => (
        <div
          key={language}
          role="tabpanel"
          id={`panel-${slug(language)}`}
          aria-labelledby={`tab-${slug(language)}`}
          hidden={language !== selected}
        >
          <pre class="code" tabIndex={0}>
            <code>{snippet(algo, language)}</code>
          </pre>
        </div>
      ))}
    </section>
  );
}
