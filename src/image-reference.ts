// Docker's image reference grammar, simplified: [registry[:port]/]path[:tag][@digest].
// One definition for what `hookpoint check` judges and what --image and a profile's image accept.
// As the kubelet's parser (distribution/reference) reads it: a registry may be an IPv6
// address in brackets, and a digest sha256, sha384 or sha512 (the algorithms it knows).
export const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?|\[[a-fA-F0-9:]+\])(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}))?$/;

export interface ImageParts {
  /** Everything before the tag: registry (with its port) and path, as written. */
  repository: string;
  tag?: string;
  /** What follows '@' (sha256:...). */
  digest?: string;
}

/**
 * An image reference split as the kubelet splits it: the digest follows '@', the tag the last
 * ':' after the last '/' (so a registry's port, or an IPv6 registry in brackets, is no tag).
 * Any string splits; IMAGE_REFERENCE says whether it is valid.
 */
export function imageParts(image: string): ImageParts {
  const at = image.indexOf("@");
  const name = at === -1 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(":");
  const parts: ImageParts = { repository: colon > name.lastIndexOf("/") ? name.slice(0, colon) : name };
  if (parts.repository !== name) parts.tag = name.slice(colon + 1);
  if (at !== -1) parts.digest = image.slice(at + 1);
  return parts;
}
