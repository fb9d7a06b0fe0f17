import type { LabelSelector } from "./types.js";

/**
 * Kubernetes label selector semantics: every matchLabels entry and every
 * requirement must hold; an empty selector matches everything.
 */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const ml = selector.matchLabels;
  if (ml) {
    for (const key in ml) if (labels[key] !== ml[key]) return false;
  }
  const exprs = selector.matchExpressions;
  if (exprs) {
    for (const req of exprs) {
      const has = Object.prototype.hasOwnProperty.call(labels, req.key);
      const value = labels[req.key];
      switch (req.operator) {
        case "In":
          if (!has || !(req.values ?? []).includes(value as string)) return false;
          break;
        case "NotIn":
          if (has && (req.values ?? []).includes(value as string)) return false;
          break;
        case "Exists":
          if (!has) return false;
          break;
        case "DoesNotExist":
          if (has) return false;
          break;
        default:
          return false; // unknown operators never match (validation reports them)
      }
    }
  }
  return true;
}

/** An absent selector matches everything, like a webhook's namespaceSelector. */
export function optionalSelectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  return selector === undefined || selectorMatches(selector, labels);
}
