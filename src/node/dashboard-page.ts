// GET /: a live dashboard, one self-contained page (no build step, no external assets, since
// nodes run offline). It polls this node's /cluster (its /status and its members', gathered by
// the node: /status allows no cross-origin reads, and one forwarded port is enough), draws members as a ring coloured by lifecycle state, and an edge between two members
// when each sees the other alive: a partition shows as a ring with edges missing between groups.
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
</style></head><body>
<header><h1>trinity-cluster</h1><span id="self" class="muted">connecting…</span><span id="quorum"></span><span id="digest" class="muted"></span></header>
<main>
 <section><h2>Members</h2><svg id="graph" width="420" height="420" role="img" aria-label="cluster members"></svg></section>
 <section><h2>Member table</h2><table id="members"><thead><tr><th>name</th><th>state</th><th>swim</th><th>inc</th><th>rtt ms</th><th>slots</th><th>digest</th></tr></thead><tbody></tbody></table>
  <h2>Tasks</h2><div id="tasks" class="muted">none yet</div></section>
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
 for(const m of members){const p=pos.get(m.name);out+='<g class="member" data-state="'+esc(m.state)+'"><circle cx="'+p[0]+'" cy="'+p[1]+'" r="22" fill="'+(COLORS[m.state]||'#8a96a3')+'"/><text x="'+p[0]+'" y="'+(p[1]+40)+'" fill="#e6e6e6" text-anchor="middle">'+esc(m.name)+'</text></g>'}
 svg.innerHTML=out;
}
refresh();setInterval(refresh,1000);
</script></body></html>`;

export function dashboardRoute(): Route {
  return () => ({ type: 'text/html; charset=utf-8', body: PAGE });
}
