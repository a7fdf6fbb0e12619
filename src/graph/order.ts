/**
 * Static priorities for a graph: a depth-first post-order from the outputs,
 * so that a dependent runs as soon as its inputs exist and intermediate
 * results are freed early (the intent of dask.order, in its simplest form).
 */
export function orderGraph(keys: readonly string[], deps: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const order = new Map<string, number>();
  const visiting = new Set<string>();
  let n = 0;
  for (const root of keys) {
    if (order.has(root)) continue;
    // iterative DFS: (key, next-child-index)
    const stack: [string, number][] = [[root, 0]];
    visiting.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const children = deps.get(top[0]) ?? [];
      if (top[1] < children.length) {
        const c = children[top[1]++]!;
        if (!order.has(c) && !visiting.has(c) && deps.has(c)) {
          visiting.add(c);
          stack.push([c, 0]);
        }
      } else {
        stack.pop();
        visiting.delete(top[0]);
        order.set(top[0], n++);
      }
    }
  }
  return order;
}
