/**
 * Image references as the kubelet reads them: docker/distribution's ParseNormalizedNamed (Docker Hub as the
 * default registry, `library/` for its official images, `index.docker.io` folded into `docker.io`), then
 * `:latest` when neither tag nor digest is given (kubelet's applyDefaultImageTag).
 */

export interface ImageReference {
  /** The image as written in the pod spec. */
  image: string;
  /** The registry host[:port]: docker.io for Docker Hub. */
  registry: string;
  /** The repository within the registry, e.g. library/nginx. */
  repository: string;
  /** registry/repository: what the kubelet looks credentials up by. */
  repoToPull: string;
  tag: string | undefined;
  digest: string | undefined;
  /** The pod spec's image with `:latest` added when it had neither tag nor digest: what the kubelet asks the runtime to pull. */
  pullSpec: string;
}

export class InvalidImageNameError extends Error {}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const NAME_TOTAL_LENGTH_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;

export function parseImageReference(image: string): ImageReference {
  const fail = (why: string): never => {
    throw new InvalidImageNameError(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${why}`);
  };
  if (ANCHORED_IDENTIFIER.test(image)) fail(`invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`);
  let { domain, remainder } = splitDockerDomain(image);
  if (remainder.split(/[:@]/, 1)[0]!.toLowerCase() !== remainder.split(/[:@]/, 1)[0]) fail('invalid reference format: repository name must be lowercase');
  const m = REFERENCE.exec(`${domain}/${remainder}`);
  if (!m) fail('invalid reference format');
  const name = m![1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) fail(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const tag = m![2];
  const digest = m![3];
  remainder = name.slice(domain.length + 1);
  return {
    image,
    registry: domain,
    repository: remainder,
    repoToPull: name,
    tag,
    digest,
    pullSpec: tag === undefined && digest === undefined ? `${image}:latest` : image,
  };
}

/** The registry part of a name: the first component when it has a dot or colon, is localhost, or has capitals; else Docker Hub. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}
