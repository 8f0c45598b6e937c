/** A valid pipeline that touches most of the schema: the seed the fuzz tests mutate (tests/config-*.test.ts). */
export const FUZZ_PIPELINE = `version: 1
name: fuzz
agent: { kind: command, run: ./agent.sh, timeout: 30m }
defaults: { max_attempts: 2, gates: [tests] }
gates:
  tests: { run: npm test, timeout: 10m, report: { format: junit, path: out.xml } }
  lint: "npm run lint"
tasks:
  - id: design
    prompt: Write the design.
  - id: implement
    needs: [design]
    template: templates/implement.liquid
    gates: [tests, lint]
    protect: ["tests/**"]
  - id: docs
    needs: design
    prompt: Document it.
    agent: { inactivity_timeout: 5m }
breakpoints:
  - { id: big, when: "changes.lines_changed > 800", action: pause }
`;
