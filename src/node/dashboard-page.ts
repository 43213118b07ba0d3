// GET /: a live dashboard, one self-contained page (no build step, no external assets, since
// nodes run offline). It polls this node's /cluster (its /status and its members', gathered by
// the node: /status allows no cross-origin reads, and one forwarded port is enough), draws members as a ring coloured by lifecycle state, and an edge between two members
// when each sees the other alive: a partition shows as a ring with edges missing between groups.
// "Agent memory": for an agent id typed (or picked, with a client token in the page's ?token=), its
// replica set, configuration and whether it is moving, from /placement (placement-route.ts).
import type { Route } from './http-server.js';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trinity-cluster</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px system-ui,sans-serif;margin:0;background:#0f1419;color:#e6e6e6}
 header{padding:12px 20px;background:#17202a;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
 h1{font-size:18px;margin:0} .muted{color:#8a96a3} main{display:flex;gap:20px;padding:20px;flex-wrap:wrap}
 section{background:#17202a;border-radius:8px;padding:14px;min-width:320px}
 table{border-collapse:collapse} td,th{padding:3px 10px;text-align:left;border-bottom:1px solid #26323e}
 .ACTIVE{color:#3fb950}.SYNCING{color:#58a6ff}.DEGRADED{color:#d29922}.LEAVING,.LEFT{color:#8a96a3}.FAILED{color:#f85149}
 .JOINING,.DISCOVERING{color:#a371f7} code{font-size:12px}
 input,button{font:inherit;background:#0f1419;color:#e6e6e6;border:1px solid #26323e;border-radius:4px;padding:3px 8px}
</style></head><body>
<header><h1>trinity-cluster</h1><span id="self" class="muted">connecting…</span><span id="quorum"></span><span id="digest" class="muted"></span></header>
<main>
 <section><h2>Members</h2><svg id="graph" width="420" height="420" role="img" aria-label="cluster members"></svg></section>
 <section><h2>Member table</h2><table id="members"><thead><tr><th>name</th><th>state</th><th>swim</th><th>inc</th><th>rtt ms</th><th>slots</th><th>digest</th></tr></thead><tbody></tbody></table>
  <h2>Tasks</h2><div id="tasks" class="muted">none yet</div></section>
 <section><h2>Agent memory</h2>
  <form id="agent-form"><input id="agent" list="agent-ids" placeholder="agent id" maxlength="128" autocomplete="off" aria-label="agent id"><datalist id="agent-ids"></datalist> <button type="submit">show</button></form>
  <div id="placement" class="muted">type an agent id to see where its memory lives</div></section>
</main>
<script>
const COLORS={ACTIVE:'#3fb950',SYNCING:'#58a6ff',DEGRADED:'#d29922',LEAVING:'#8a96a3',LEFT:'#8a96a3',FAILED:'#f85149',JOINING:'#a371f7',DISCOVERING:'#a371f7'};
const esc=s=>String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
async function fetchStatus(url){try{const r=await fetch(url,{cache:'no-store',signal:AbortSignal.timeout(2500)});return r.ok?await r.json():null}catch{return null}}
async function refresh(){
 const all=await fetchStatus('/cluster');const me=all&&all.self;
 if(!me){document.getElementById('self').textContent='this node does not answer';return}
 document.getElementById('self').innerHTML='node <b>'+esc(me.name)+'</b> is <span class="'+esc(me.state)+'">'+esc(me.state)+'</span>';
 const q=me.quorum||{};document.getElementById('quorum').innerHTML=q.writable?'<span class="ACTIVE">writable</span> ('+q.reachable+'/'+q.voters+' voters)':'<span class="DEGRADED">read-only</span> ('+q.reachable+'/'+q.voters+' voters)';
 document.getElementById('digest').textContent=me.memory?('memory '+me.memory.digest.slice(0,12)+' · '+me.memory.documents+' docs'):'';
 const members=me.members||[];
 const views=members.map(m=>m.name===me.name?me:((all.views||{})[m.name]||null));
 const byName=new Map(members.map((m,i)=>[m.name,{m,view:views[i]}]));
 drawGraph(members,byName);
 const tb=document.querySelector('#members tbody');
 tb.innerHTML=members.map((m,i)=>'<tr data-member="'+esc(m.name)+'"><td>'+esc(m.name)+'</td><td class="'+esc(m.state)+'">'+esc(m.state)+'</td><td>'+esc(m.swimState)+'</td><td>'+m.incarnation+'</td><td>'+(m.rttMs==null?'-':m.rttMs)+'</td><td>'+m.freeSlots+'/'+m.slots+'</td><td><code>'+(views[i]&&views[i].memory?esc(views[i].memory.digest.slice(0,10)):'-')+'</code></td></tr>').join('');
 const t=me.tasks;document.getElementById('tasks').textContent=t?Object.entries(t).map(([k,v])=>k+': '+v).join('  ·  '):'none yet';
}
function drawGraph(members,byName){
 const svg=document.getElementById('graph');const W=420,R=160,cx=W/2,cy=W/2;const n=members.length||1;
 const pos=new Map(members.map((m,i)=>[m.name,[cx+R*Math.cos(2*Math.PI*i/n-Math.PI/2),cy+R*Math.sin(2*Math.PI*i/n-Math.PI/2)]]));
 let out='';
 for(let i=0;i<members.length;i++)for(let j=i+1;j<members.length;j++){
  const a=byName.get(members[i].name),b=byName.get(members[j].name);
  const sees=(x,y)=>x&&x.view&&(x.view.members||[]).some(mm=>mm.name===y&&mm.swimState==='alive');
  if(sees(a,members[j].name)&&sees(b,members[i].name)){const p=pos.get(members[i].name),q=pos.get(members[j].name);out+='<line x1="'+p[0]+'" y1="'+p[1]+'" x2="'+q[0]+'" y2="'+q[1]+'" stroke="#2d4b63" stroke-width="2"/>'}
 }
 for(const m of members){const p=pos.get(m.name);out+='<g class="member" data-name="'+esc(m.name)+'" data-state="'+esc(m.state)+'"><circle cx="'+p[0]+'" cy="'+p[1]+'" r="22" fill="'+(COLORS[m.state]||'#8a96a3')+'"/><text x="'+p[0]+'" y="'+(p[1]+40)+'" fill="#e6e6e6" text-anchor="middle">'+esc(m.name)+'</text></g>'}
 svg.innerHTML=out;
}
const TOKEN=new URLSearchParams(location.search).get('token');
const withToken=u=>TOKEN?u+(u.includes('?')?'&':'?')+'token='+encodeURIComponent(TOKEN):u;
let shownAgent=null,replicaNames=new Set();
async function showPlacement(){
 const out=document.getElementById('placement');if(!shownAgent)return;
 let r=null;try{const res=await fetch(withToken('/placement?agent='+encodeURIComponent(shownAgent)),{cache:'no-store',signal:AbortSignal.timeout(2500)});r=await res.json();if(!res.ok){out.textContent=r&&r.error?r.error:'no answer';return}}catch{out.textContent='this node does not answer';return}
 replicaNames=new Set(r.replicas);markReplicas();
 if(r.epoch===0){out.textContent='this node holds no voter configuration yet: agent '+r.agent+' has no placement';return}
 out.innerHTML='<table><tbody>'+
  '<tr><th>agent</th><td id="p-agent">'+esc(r.agent)+'</td></tr>'+
  '<tr><th>replicas</th><td id="p-replicas">'+r.replicas.map(esc).join(', ')+'</td></tr>'+
  '<tr><th>configuration</th><td id="p-epoch">'+r.epoch+'</td></tr>'+
  '<tr><th>factor</th><td>'+r.replicationFactor+' of '+r.voters+' voters</td></tr>'+
  '<tr><th>moving</th><td id="p-moving">'+(r.moving?'yes: this node holds it and hands it off':r.pending?'yes: to '+r.pending.replicas.map(esc).join(', ')+' (configuration '+r.pending.epoch+' being agreed)':'no')+'</td></tr>'+
  '<tr><th>held here</th><td id="p-held">'+(r.heldHere?'yes':'no')+'</td></tr></tbody></table>';
}
function markReplicas(){for(const g of document.querySelectorAll('#graph g.member')){const on=replicaNames.has(g.dataset.name);g.classList.toggle('replica',on);const c=g.querySelector('circle');if(c){c.setAttribute('stroke',on?'#e6e6e6':'none');c.setAttribute('stroke-width','4')}}}
async function loadAgentIds(){try{const r=await fetch(withToken('/placement'),{cache:'no-store'});const j=await r.json();if(j&&Array.isArray(j.agents))document.getElementById('agent-ids').innerHTML=j.agents.map(a=>'<option value="'+esc(a)+'">').join('')}catch{}}
document.getElementById('agent-form').addEventListener('submit',e=>{e.preventDefault();const v=document.getElementById('agent').value.trim();shownAgent=v||null;replicaNames=new Set();markReplicas();if(shownAgent)showPlacement()});
loadAgentIds();
refresh();setInterval(()=>{refresh().then(()=>{markReplicas();return showPlacement()})},1000);
</script></body></html>`;

export function dashboardRoute(): Route {
  return () => ({ type: 'text/html; charset=utf-8', body: PAGE });
}
