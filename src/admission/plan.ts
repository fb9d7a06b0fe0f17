// After "inject": which profile, image and scripts. An image asked for by
// annotation must be allowed by the policy, otherwise the request is denied.
import type { EffectivePolicy, Settings } from "../policy/effective.js";
import { policyLabel } from "../policy/effective.js";
import { imageAllowed } from "../policy/images.js";
import type { Profile } from "../policy/types.js";
import { IMAGE_ANNOTATION, PROFILE_ANNOTATION, SCRIPTS_ANNOTATION } from "../names.js";
import type { Pod, TargetRef } from "./pod.js";

export interface InjectionPlan {
  target: TargetRef;
  profileName: string;
  profile: Profile;
  image: string;
  scripts: string[];
  /** The container's resources with the profile's merged in (resources.ts), when the profile sets any. */
  resources?: Record<string, unknown>;
}

/** Why a request is denied; a closed set (a metric label). */
export type DenialReason = "image-not-allowed";

export type PlanResult = { ok: true; plan: InjectionPlan; warnings: string[] } | { ok: false; denied: string; reason: DenialReason };

export function planInjection(pod: Pod, target: TargetRef, policy: EffectivePolicy, settings: Settings): PlanResult {
  const annotations = pod.metadata?.annotations ?? {};
  const warnings: string[] = [];

  let profileName = policy.defaultProfile;
  const asked = annotations[PROFILE_ANNOTATION];
  if (asked !== undefined) {
    if (Object.prototype.hasOwnProperty.call(policy.profiles, asked)) profileName = asked;
    else
      warnings.push(
        `hookpoint: profile "${asked}" (annotation ${PROFILE_ANNOTATION}) is not defined by ${policyLabel(policy)}; using "${profileName}" (defined: ${Object.keys(policy.profiles).sort().join(", ")})`,
      );
  }
  const profile = policy.profiles[profileName] ?? {};

  let image = profile.image ?? settings.defaultImage;
  const askedImage = annotations[IMAGE_ANNOTATION];
  if (askedImage !== undefined) {
    if (!imageAllowed(askedImage, policy.allowedImages)) {
      const allowed = policy.allowedImages.length === 0 ? "it allows no image by annotation (allowedImages is empty)" : `allowedImages is ${policy.allowedImages.join(", ")}`;
      return { ok: false, reason: "image-not-allowed", denied: `hookpoint: image "${askedImage}" from annotation ${IMAGE_ANNOTATION} is not allowed by ${policyLabel(policy)}: ${allowed}` };
    }
    image = askedImage;
  }

  // Each script once, in the order first named (a profile may name one twice, as the annotation may).
  let scripts = [...new Set(profile.scripts ?? settings.defaultScripts)];
  const askedScripts = annotations[SCRIPTS_ANNOTATION];
  if (askedScripts !== undefined) {
    const names = askedScripts.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const unknown = names.filter((n) => !settings.knownScripts.includes(n));
    const known = [...new Set(names.filter((n) => settings.knownScripts.includes(n)))];
    if (unknown.length > 0) {
      warnings.push(
        `hookpoint: unknown script${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")} in annotation ${SCRIPTS_ANNOTATION} ignored; available: ${[...settings.knownScripts].sort().join(", ")}`,
      );
    }
    if (known.length > 0) scripts = known;
    else warnings.push(`hookpoint: no known script in annotation ${SCRIPTS_ANNOTATION}; using profile "${profileName}" scripts`);
  }

  return { ok: true, plan: { target, profileName, profile, image, scripts }, warnings };
}
