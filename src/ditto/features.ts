import { ValidationError } from '../core/errors.js';
import { type IdRules, validateFeatureId } from '../core/ids.js';
import type { DittoGetOptions, DittoHeaderOptions, DittoReadOptions } from './headers.js';
import { featurePath, fieldsQuery, thingPath } from './paths.js';
import { type DittoResource, requireObject } from './resource.js';
import type { Feature, FeatureDefinition, Features, PutResult, Versioned, WriteResult } from './types.js';
import { type JsonTreeHandle, jsonTree } from './values.js';

export interface FeatureDefinitionHandle {
  get(options?: DittoGetOptions): Promise<FeatureDefinition>;
  put(definition: FeatureDefinition, options?: DittoHeaderOptions): Promise<PutResult<FeatureDefinition>>;
  delete(options?: DittoHeaderOptions): Promise<WriteResult>;
}

/** One feature of one thing: `/things/{thingId}/features/{featureId}`. */
export interface FeatureHandle {
  readonly thingId: string;
  readonly featureId: string;
  get(options?: DittoReadOptions): Promise<Feature>;
  getVersioned(options?: DittoReadOptions): Promise<Versioned<Feature>>;
  put(feature: Feature, options?: DittoHeaderOptions): Promise<PutResult<Feature>>;
  merge(patch: Feature, options?: DittoHeaderOptions): Promise<WriteResult>;
  delete(options?: DittoHeaderOptions): Promise<WriteResult>;
  readonly definition: FeatureDefinitionHandle;
  readonly properties: JsonTreeHandle;
  readonly desiredProperties: JsonTreeHandle;
}

/** All features of one thing: `/things/{thingId}/features`. */
export interface FeaturesHandle {
  get(options?: DittoReadOptions): Promise<Features>;
  getVersioned(options?: DittoReadOptions): Promise<Versioned<Features>>;
  put(features: Features, options?: DittoHeaderOptions): Promise<PutResult<Features>>;
  /** JSON merge patch; a feature set to `null` is deleted. */
  merge(patch: FeaturesPatch, options?: DittoHeaderOptions): Promise<WriteResult>;
  delete(options?: DittoHeaderOptions): Promise<WriteResult>;
}

export type FeaturesPatch = { [featureId: string]: Feature | null };

/** Checks every key of a features object as a feature ID. */
export function checkFeatureIds(features: object, rules: IdRules, field = 'features'): void {
  for (const featureId of Object.keys(features)) validateFeatureId(featureId, rules, `${field}.${featureId}`);
}

function fieldsOf(options: DittoReadOptions | undefined): { fields: string } | undefined {
  const fields = fieldsQuery(options?.fields);
  return fields === undefined ? undefined : { fields };
}

function checkDefinition(definition: unknown): void {
  if (!Array.isArray(definition) || definition.length === 0 || definition.some((item) => typeof item !== 'string' || item === '')) {
    throw new ValidationError(
      'definition',
      'must be a non-empty array of definition identifiers',
      'e.g. ["org.acme:lamp:1.0.0"] or a URL to a WoT Thing Model.',
    );
  }
}

export function featureHandle(resource: DittoResource, rules: IdRules, thingId: string, featureId: string): FeatureHandle {
  const base = () => featurePath(thingId, featureId, rules);
  const read = (options?: DittoReadOptions) => resource.getVersioned<Feature>(base(), options, fieldsOf(options));
  return {
    thingId,
    featureId,
    async get(options) {
      return (await read(options)).value;
    },
    async getVersioned(options) {
      return read(options);
    },
    async put(feature, options) {
      const path = base();
      requireObject('feature', feature);
      return resource.put<Feature>(path, 'feature', feature, options);
    },
    async merge(patch, options) {
      const path = base();
      requireObject('patch', patch);
      return resource.merge(path, 'patch', patch, options);
    },
    async delete(options) {
      return resource.delete(base(), options);
    },
    definition: {
      async get(options) {
        return resource.get<FeatureDefinition>(`${base()}/definition`, options);
      },
      async put(definition, options) {
        const path = `${base()}/definition`;
        checkDefinition(definition);
        return resource.put<FeatureDefinition>(path, 'definition', definition, options);
      },
      async delete(options) {
        return resource.delete(`${base()}/definition`, options);
      },
    },
    properties: jsonTree(resource, () => `${base()}/properties`, 'properties'),
    desiredProperties: jsonTree(resource, () => `${base()}/desiredProperties`, 'desiredProperties'),
  };
}

export function featuresHandle(resource: DittoResource, rules: IdRules, thingId: string): FeaturesHandle {
  const base = () => `${thingPath(thingId, rules)}/features`;
  const read = (options?: DittoReadOptions) => resource.getVersioned<Features>(base(), options, fieldsOf(options));
  return {
    async get(options) {
      return (await read(options)).value;
    },
    async getVersioned(options) {
      return read(options);
    },
    async put(features, options) {
      const path = base();
      requireObject('features', features);
      checkFeatureIds(features, rules);
      return resource.put<Features>(path, 'features', features, options);
    },
    async merge(patch, options) {
      const path = base();
      requireObject('patch', patch);
      checkFeatureIds(patch, rules, 'patch');
      return resource.merge(path, 'patch', patch, options);
    },
    async delete(options) {
      return resource.delete(base(), options);
    },
  };
}
