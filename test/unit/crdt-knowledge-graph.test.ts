// The replicated knowledge graph's merge rules on two replicas exchanging updates in either
// order: concurrent creations of one entity merge, concurrent observations and relations all
// survive, an addition concurrent with a delete wins (and only it survives), replicas converge to
// the same read_graph; and a peer's update that leaves the graph schema is refused whole.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { GRAPH_SCHEMA, KnowledgeGraphDoc } from '../../crdt/knowledge-graph.js';
import { applyRemoteUpdate } from '../../crdt/updates.js';

function pair(): [KnowledgeGraphDoc, KnowledgeGraphDoc, () => void] {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.clientID = 1;
  b.clientID = 2;
  const sync = () => {
    const ua = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
    const ub = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
    applyRemoteUpdate(b, ua, 'peer', { schema: GRAPH_SCHEMA });
    applyRemoteUpdate(a, ub, 'peer', { schema: GRAPH_SCHEMA });
  };
  return [new KnowledgeGraphDoc(a), new KnowledgeGraphDoc(b), sync];
}

describe('knowledge graph document', () => {
  it('concurrent creations of one entity merge into one, with the observations of both', () => {
    const [a, b, sync] = pair();
    a.createEntities([{ name: 'X', entityType: 'person', observations: ['from a'] }]);
    b.createEntities([{ name: 'X', entityType: 'robot', observations: ['from b'] }]);
    sync();
    expect(a.readGraph()).toEqual(b.readGraph());
    const g = a.readGraph();
    expect(g.entities).toHaveLength(1);
    expect(g.entities[0]!.observations.sort()).toEqual(['from a', 'from b']);
    // The earliest creation's type (equal n: the lower dot, client 1).
    expect(g.entities[0]!.entityType).toBe('person');
  });

  it('concurrent observations and relations all survive; the same relation created twice is listed once', () => {
    const [a, b, sync] = pair();
    a.createEntities([{ name: 'X', entityType: 't', observations: [] }]);
    sync();
    a.addObservations([{ entityName: 'X', contents: ['one', 'same'] }]);
    b.addObservations([{ entityName: 'X', contents: ['two', 'same'] }]);
    a.createRelations([{ from: 'X', to: 'Y', relationType: 'r' }]);
    b.createRelations([{ from: 'X', to: 'Y', relationType: 'r' }, { from: 'Y', to: 'X', relationType: 'q' }]);
    sync();
    expect(a.readGraph()).toEqual(b.readGraph());
    expect(a.readGraph().entities[0]!.observations.sort()).toEqual(['one', 'same', 'two']);
    expect(a.readGraph().relations).toHaveLength(2);
    // Deleting the duplicated relation removes every copy seen.
    b.deleteRelations([{ from: 'X', to: 'Y', relationType: 'r' }]);
    sync();
    expect(a.readGraph().relations).toEqual([{ from: 'Y', to: 'X', relationType: 'q' }]);
  });

  it('an addition concurrent with a delete wins, and only what the delete had not seen survives', () => {
    const [a, b, sync] = pair();
    a.createEntities([{ name: 'X', entityType: 't', observations: ['old'] }]);
    a.createRelations([{ from: 'X', to: 'Z', relationType: 'old-rel' }]);
    sync();
    a.deleteEntities(['X']);
    b.addObservations([{ entityName: 'X', contents: ['new'] }]);
    b.createRelations([{ from: 'Z', to: 'X', relationType: 'new-rel' }]);
    sync();
    expect(a.readGraph()).toEqual(b.readGraph());
    expect(a.readGraph()).toEqual({ entities: [{ name: 'X', entityType: 't', observations: ['new'] }], relations: [{ from: 'Z', to: 'X', relationType: 'new-rel' }] });
    // A delete that saw everything removes it all, on both.
    b.deleteEntities(['X']);
    sync();
    expect(a.readGraph()).toEqual({ entities: [], relations: [] });
    // Concurrent delete of an observation and its re-addition elsewhere: the re-addition survives.
    a.createEntities([{ name: 'E', entityType: 't', observations: ['o'] }]);
    sync();
    a.deleteObservations([{ entityName: 'E', observations: ['o'] }]);
    b.addObservations([{ entityName: 'E', contents: ['p'] }]);
    sync();
    expect(b.readGraph().entities).toEqual([{ name: 'E', entityType: 't', observations: ['p'] }]);
  });

  it('deleting the last observation of an entity kept alive only by observations keeps the entity', () => {
    const [a, b, sync] = pair();
    a.createEntities([{ name: 'X', entityType: 't', observations: [] }]);
    sync();
    a.deleteEntities(['X']);
    b.addObservations([{ entityName: 'X', contents: ['only'] }]);
    sync();
    a.deleteObservations([{ entityName: 'X', observations: ['only'] }]);
    sync();
    expect(b.readGraph().entities).toEqual([{ name: 'X', entityType: 't', observations: [] }]);
  });

  it('refuses updates outside the graph schema, and hides values of the wrong shape', () => {
    const doc = new Y.Doc();
    const g = new KnowledgeGraphDoc(doc);
    for (const build of [
      (d: Y.Doc) => d.getMap('other').set('k', 1),
      (d: Y.Doc) => d.getMap('graph').set('e:1.0', new Y.Map()),
      (d: Y.Doc) => d.getMap('graph').set('e:1.0', new Uint8Array([1])),
      (d: Y.Doc) => d.getXmlFragment('graph').insert(0, [new Y.XmlText('x')]),
    ]) {
      const evil = new Y.Doc();
      build(evil);
      expect(() => applyRemoteUpdate(doc, Y.encodeStateAsUpdate(evil), 'peer', { schema: GRAPH_SCHEMA })).toThrow();
    }
    const odd = new Y.Doc();
    odd.getMap('graph').set('e:9.0', { name: 5, entityType: 't', n: 1 });
    odd.getMap('graph').set('o:9.1', { entity: 'Q', entityType: 't', text: 'fine', n: 2 });
    odd.getMap('graph').set('zz', 'junk');
    applyRemoteUpdate(doc, Y.encodeStateAsUpdate(odd), 'peer', { schema: GRAPH_SCHEMA });
    expect(g.readGraph()).toEqual({ entities: [{ name: 'Q', entityType: 't', observations: ['fine'] }], relations: [] });
  });
});
