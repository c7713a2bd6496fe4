import { describe, expect, it } from 'vitest';
import { checkDeployment, checkModel, checkStrategy, effectivePolicy, UNRESTRICTED, type DeploymentFacts } from './policy.ts';
import type { AccessPolicy } from './types.ts';

function deployment(over: Partial<DeploymentFacts> = {}): DeploymentFacts {
  return { providerName: 'openai-main', providerType: 'openai', model: 'gpt-4o', requestedNames: ['gpt-4o'], blendedPricePerMtok: 5, ...over };
}

describe('effectivePolicy', () => {
  it('is unrestricted without policies', () => {
    const p = effectivePolicy([undefined, undefined]);
    expect(p).toBe(UNRESTRICTED);
    expect(checkModel(p, 'anything')).toBe(true);
    expect(checkDeployment(p, deployment({ blendedPricePerMtok: undefined }))).toBe(true);
    expect(checkStrategy(p, 'quality')).toBe(true);
  });

  it('intersects allow lists: a model must be allowed at every level', () => {
    const org: AccessPolicy = { allowModels: ['gpt-*', 'claude-*'] };
    const team: AccessPolicy = { allowModels: ['*-mini', 'claude-haiku*'] };
    const p = effectivePolicy([org, team, undefined]);
    expect(checkModel(p, 'gpt-4o-mini')).toBe(true);
    expect(checkModel(p, 'claude-haiku-4-5')).toBe(true);
    expect(checkModel(p, 'gpt-4o')).toBe(false); // org yes, team no
    expect(checkModel(p, 'o3-mini')).toBe(false); // team yes, org no
  });

  it('unions deny lists: any level refuses', () => {
    const p = effectivePolicy([{ denyModels: ['o1*'] }, { denyModels: ['gpt-4.5*'] }, { allowModels: ['*'] }]);
    expect(checkModel(p, 'o1-pro')).toBe(false);
    expect(checkModel(p, 'gpt-4.5-preview')).toBe(false);
    expect(checkModel(p, 'gpt-4o')).toBe(true);
  });

  it('deny wins over allow, and applies to aliases too', () => {
    const p = effectivePolicy([{ allowModels: ['gpt-*'], denyModels: ['gpt-4o'] }]);
    expect(checkModel(p, 'gpt-4o')).toBe(false);
    expect(checkModel(p, 'gpt-4o-mini')).toBe(true);
    expect(checkModel(p, 'smart', ['gpt-4o'])).toBe(false);
    expect(checkModel(p, 'cheap', ['gpt-4o-mini'])).toBe(true);
  });

  it('an empty allow list admits nothing', () => {
    const p = effectivePolicy([{ allowModels: [] }]);
    expect(checkModel(p, 'gpt-4o')).toBe(false);
    expect(checkDeployment(p, deployment())).toBe(false);
  });

  it('intersects strategies', () => {
    const p = effectivePolicy([{ allowStrategies: ['cost', 'balanced', 'latency'] }, {}, { allowStrategies: ['balanced', 'cost', 'quality'] }]);
    expect(checkStrategy(p, 'cost')).toBe(true);
    expect(checkStrategy(p, 'balanced')).toBe(true);
    expect(checkStrategy(p, 'latency')).toBe(false);
    expect(checkStrategy(p, 'quality')).toBe(false);
    const disjoint = effectivePolicy([{ allowStrategies: ['cost'] }, { allowStrategies: ['quality'] }]);
    expect(checkStrategy(disjoint, 'cost')).toBe(false);
  });

  it('intersects providers by name or type, and takes the lowest price cap', () => {
    const p = effectivePolicy([{ allowProviders: ['openai', 'anthropic'], maxPricePerMtok: 20 }, { allowProviders: ['openai-eu', 'anthropic-*'], maxPricePerMtok: 10 }]);
    expect(p.maxPricePerMtok).toBe(10);
    // Allowed by type at the org, by name at the team.
    expect(checkDeployment(p, deployment({ providerName: 'openai-eu' }))).toBe(true);
    expect(checkDeployment(p, deployment({ providerName: 'anthropic-us', providerType: 'anthropic' }))).toBe(true);
    expect(checkDeployment(p, deployment({ providerName: 'openai-main' }))).toBe(false);
    expect(checkDeployment(p, deployment({ providerName: 'openai-eu', providerType: 'azure' }))).toBe(false);
    expect(checkDeployment(p, deployment({ providerName: 'openai-eu', blendedPricePerMtok: 10 }))).toBe(true);
    expect(checkDeployment(p, deployment({ providerName: 'openai-eu', blendedPricePerMtok: 10.01 }))).toBe(false);
    expect(checkDeployment(p, deployment({ providerName: 'openai-eu', blendedPricePerMtok: undefined }))).toBe(false);
  });

  it('compiles each policy object once', () => {
    const policy: AccessPolicy = { allowModels: ['a*'] };
    const a = effectivePolicy([policy]);
    const b = effectivePolicy([policy, undefined]);
    expect(a.allow[0]).toBe(b.allow[0]);
  });
});

describe('deployment-level rules', () => {
  it('a denied model is not reached through another group that serves it', () => {
    const p = effectivePolicy([{ denyModels: ['gpt-4o'] }]);
    expect(checkModel(p, 'smart')).toBe(true);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], model: 'gpt-4o' }))).toBe(false);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], model: 'claude-sonnet-4', providerType: 'anthropic', providerName: 'anthropic' }))).toBe(true);
  });

  it('provider-qualified denies strip that provider from any group', () => {
    const p = effectivePolicy([{ denyModels: ['openai/*'] }]);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'] }))).toBe(false);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], providerName: 'azure-eu', providerType: 'azure' }))).toBe(true);
  });

  it('provider-qualified allows admit the group, then only the matching deployments', () => {
    const p = effectivePolicy([{ allowModels: ['anthropic/*'] }]);
    expect(checkModel(p, 'smart')).toBe(true); // decided per deployment
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], providerName: 'claude', providerType: 'anthropic', model: 'claude-sonnet-4' }))).toBe(true);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'] }))).toBe(false);
    // By provider name as well as type.
    const byName = effectivePolicy([{ allowModels: ['openai-eu/*'] }]);
    expect(checkDeployment(byName, deployment({ requestedNames: ['smart'], providerName: 'openai-eu' }))).toBe(true);
  });

  it('unqualified allows are about the names the client uses', () => {
    const p = effectivePolicy([{ allowModels: ['cheap'] }]);
    expect(checkModel(p, 'cheap')).toBe(true);
    expect(checkModel(p, 'gpt-4o')).toBe(false);
    expect(checkDeployment(p, deployment({ requestedNames: ['cheap'], model: 'gpt-4o-mini' }))).toBe(true);
    expect(checkDeployment(p, deployment({ requestedNames: ['gpt-4o'] }))).toBe(false);
  });

  it('every level must admit the deployment', () => {
    const p = effectivePolicy([{ allowModels: ['anthropic/*', 'gpt-*'] }, { allowModels: ['smart'] }]);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], providerType: 'anthropic', providerName: 'a', model: 'claude' }))).toBe(true);
    expect(checkDeployment(p, deployment({ requestedNames: ['smart'], providerType: 'gemini', providerName: 'g', model: 'gemini-pro' }))).toBe(false);
  });

  it('checkDeployment true implies checkModel true', () => {
    const policies: AccessPolicy[] = [{ allowModels: ['anthropic/*'] }, { allowModels: ['smart', 'x-*'] }, { denyModels: ['smart'] }, { allowModels: ['gpt-4o'] }];
    const names = [['smart'], ['x-1', 'smart'], ['gpt-4o'], ['other']];
    const deployments = [deployment(), deployment({ providerType: 'anthropic', providerName: 'a', model: 'claude' })];
    for (let mask = 1; mask < 1 << policies.length; mask++) {
      const p = effectivePolicy(policies.filter((_, i) => mask & (1 << i)));
      for (const [name, ...aliases] of names) {
        for (const d of deployments) {
          if (checkDeployment(p, { ...d, requestedNames: [name, ...aliases] })) expect(checkModel(p, name, aliases)).toBe(true);
        }
      }
    }
  });
});
