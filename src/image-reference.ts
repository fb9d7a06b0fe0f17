// Docker's image reference grammar, simplified: [registry[:port]/]path[:tag][@digest].
// One definition for what `hookpoint check` judges and what --image and a profile's image accept.
// As the kubelet's parser (distribution/reference) reads it: a registry may be an IPv6
// address in brackets, and a digest sha256, sha384 or sha512 (the algorithms it knows).
export const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?|\[[a-fA-F0-9:]+\])(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}))?$/;
