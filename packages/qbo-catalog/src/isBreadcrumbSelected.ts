import { breadcrumbKey, type NodeMetadata } from './parseCatalogInput.js';

/**
 * The Meltano SDK's selection rule (`_breadcrumb_is_selected`, singer-meltano.md §4.3): no
 * metadata at all selects everything; a deselected parent deselects its children; then
 * unsupported → no, automatic → yes, then `selected`, then `selected-by-default`, then the
 * parent's value (false for the stream itself).
 */
export function isBreadcrumbSelected(metadata: ReadonlyMap<string, NodeMetadata>, breadcrumb: readonly string[]): boolean {
  if (metadata.size === 0) return true;
  const parent = breadcrumb.length > 0 ? isBreadcrumbSelected(metadata, breadcrumb.slice(0, -2)) : undefined;
  if (parent === false) return false;
  const node = metadata.get(breadcrumbKey(breadcrumb));
  if (node?.inclusion === 'unsupported') return false;
  if (node?.inclusion === 'automatic') return true;
  return node?.selected ?? node?.selectedByDefault ?? parent ?? false;
}
