// Names of every RPC method, in one place so client and node cannot drift apart.
export const METHODS = {
  members: 'cluster.members',
  status: 'cluster.status',
  memoryAdd: 'memory.add',
  memoryShow: 'memory.show',
  memoryDigest: 'memory.digest',
  taskSubmit: 'task.submit',
  taskGet: 'task.get',
  taskList: 'task.list',
  taskRun: 'task.run',
  taskRevoke: 'task.revoke',
  keysList: 'keys.list',
  keysInstall: 'keys.install',
  keysUse: 'keys.use',
  keysRemove: 'keys.remove',
  keysApply: 'keys.apply',
} as const;
