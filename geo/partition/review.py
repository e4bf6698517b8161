"""A review map of a partition as one self-contained HTML file that needs no network.

folium's pages load Leaflet, jQuery and Bootstrap from CDNs, and no package the project
depends on ships a standalone Leaflet build (dash-leaflet bundles it inside its own webpack
module), so the map is a small canvas viewer written here: pan by dragging, zoom with the
wheel or the +/- buttons, grids coloured by households with their code and count as labels,
flagged grids outlined in red, buildings drawn once zoomed in, a click shows a grid's
details. No tile layer, no script, style or font from outside the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.partition.contract import breach_lines

__all__ = ["review_html", "write_review_map"]

_PRECISION = 6  # decimals of a degree: about 0.1 m


def _features(frame: gpd.GeoDataFrame, props: list[str]) -> list[dict]:
    geoms = frame.geometry.to_numpy()
    geoms = shapely.set_precision(geoms, 10**-_PRECISION)
    out = []
    records = frame[props].to_dict("records") if props else [{}] * len(frame)
    for geom, rec in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        rings = []
        for poly in shapely.get_parts(geom):
            if poly.geom_type != "Polygon":
                continue
            rings.append(
                [
                    np.round(np.asarray(r.coords)[:, :2], _PRECISION).tolist()
                    for r in [poly.exterior, *poly.interiors]
                ]
            )
        rec = {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
        out.append({"p": rings, "a": rec})
    return out


def review_html(
    result, *, title: str = "网格划分 grid review", max_buildings: int = 200_000
) -> str:
    """The HTML text of the review map for a :class:`geo.partition.PartitionResult`."""
    grids = result.grids.to_crs(4326)
    labels = grids.geometry.representative_point()
    gfeat = _features(
        grids, ["grid_code", "community_id", "households", "buildings", "kind", "flags"]
    )
    for f, pt in zip(gfeat, labels, strict=False):
        f["l"] = [round(pt.x, _PRECISION), round(pt.y, _PRECISION)]
    b = result.buildings.dropna(subset=[result.buildings.geometry.name]).to_crs(4326)
    b = b.iloc[:max_buildings]
    bfeat = _features(b, ["grid_code", "households"])
    band = result.report.get("band", {})
    data = {
        "grids": gfeat,
        "buildings": bfeat,
        "min": band.get("min_households", 300),
        "max": band.get("max_households", 500),
        # the contract's outcome (geo.partition.contract): one line per kind of breach
        "breaches": breach_lines(result.report),
        "straddling": len(result.report.get("contract", {}).get("straddling_buildings", [])),
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("</", "<\\/")
    return _TEMPLATE.replace("__TITLE__", title).replace("__DATA__", payload)


def write_review_map(result, path: str | Path, **kwargs) -> Path:
    """Write :func:`review_html` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(review_html(result, **kwargs), encoding="utf-8")
    return path


_TEMPLATE = r"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
html,body{margin:0;height:100%;font:13px system-ui,sans-serif;background:#f4f4f0}
#map{position:absolute;inset:0;cursor:grab}
#panel{position:absolute;top:8px;right:8px;background:#fff;padding:8px 10px;border-radius:6px;
box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:280px}
#zoom{position:absolute;top:8px;left:8px;display:flex;flex-direction:column;gap:4px}
#zoom button{width:30px;height:30px;font-size:18px}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px}
</style></head><body>
<canvas id="map"></canvas>
<div id="zoom"><button id="zin">+</button><button id="zout">&minus;</button></div>
<div id="panel"><b>__TITLE__</b><div id="legend"></div><div id="info">点击网格查看 / click a grid</div></div>
<script>
const D = __DATA__;
const cv = document.getElementById('map'), ctx = cv.getContext('2d');
const R = 6378137, DEG = Math.PI / 180;
function mx(lon){return R*lon*DEG;}
function my(lat){return R*Math.log(Math.tan(Math.PI/4+lat*DEG/2));}
function proj(f){f.m=f.p.map(poly=>poly.map(r=>r.map(c=>[mx(c[0]),my(c[1])])));
  let b=[1e20,1e20,-1e20,-1e20];f.m.forEach(p=>p[0].forEach(c=>{b[0]=Math.min(b[0],c[0]);
  b[1]=Math.min(b[1],c[1]);b[2]=Math.max(b[2],c[0]);b[3]=Math.max(b[3],c[1]);}));f.b=b;}
D.grids.forEach(proj); D.buildings.forEach(proj);
let B=[1e20,1e20,-1e20,-1e20];D.grids.forEach(f=>{B[0]=Math.min(B[0],f.b[0]);B[1]=Math.min(B[1],f.b[1]);
  B[2]=Math.max(B[2],f.b[2]);B[3]=Math.max(B[3],f.b[3]);});
let scale=1, cx=(B[0]+B[2])/2, cy=(B[1]+B[3])/2, sel=null;
function colour(h){if(h<D.min)return '#9ecae1';if(h>D.max)return '#fc9272';
  const t=(h-D.min)/Math.max(D.max-D.min,1);const g=Math.round(200-90*t);return 'rgb(60,'+g+',90)';}
function legend(){document.getElementById('legend').innerHTML=
  '<div><span class="sw" style="background:#9ecae1"></span>&lt; '+D.min+' 户</div>'+
  '<div><span class="sw" style="background:rgb(60,200,90)"></span>'+D.min+'–'+D.max+' 户</div>'+
  '<div><span class="sw" style="background:#fc9272"></span>&gt; '+D.max+' 户</div>'+
  '<div><span class="sw" style="border:2px solid #d00"></span>flagged 需复核</div>'+
  '<div>'+D.grids.length+' grids, '+D.buildings.length+' buildings</div>'+
  (D.breaches.length?D.breaches.map(t=>'<div style="color:#d00">'+t.replace(/</g,'&lt;')+'</div>').join(''):
  '<div>contract kept 约定通过; '+D.straddling+' building(s) across a community line</div>');}
function resize(){cv.width=innerWidth*devicePixelRatio;cv.height=innerHeight*devicePixelRatio;draw();}
function fit(){const w=B[2]-B[0]||1,h=B[3]-B[1]||1;scale=Math.min(innerWidth/w,innerHeight/h)*0.9;}
function sx(x){return (x-cx)*scale+innerWidth/2;} function sy(y){return innerHeight/2-(y-cy)*scale;}
function path(f){ctx.beginPath();f.m.forEach(p=>p.forEach(r=>{r.forEach((c,i)=>{
  const X=sx(c[0]),Y=sy(c[1]);if(i)ctx.lineTo(X,Y);else ctx.moveTo(X,Y);});ctx.closePath();}));}
function visible(f){return sx(f.b[2])>=0&&sx(f.b[0])<=innerWidth&&sy(f.b[1])>=0&&sy(f.b[3])<=innerHeight;}
function draw(){ctx.setTransform(devicePixelRatio,0,0,devicePixelRatio,0,0);
  ctx.clearRect(0,0,innerWidth,innerHeight);
  D.grids.forEach(f=>{if(!visible(f))return;path(f);ctx.fillStyle=colour(f.a.households);
    ctx.globalAlpha=0.55;ctx.fill('evenodd');ctx.globalAlpha=1;ctx.lineWidth=1;ctx.strokeStyle='#333';ctx.stroke();});
  if(scale>0.4){ctx.fillStyle='#222';ctx.strokeStyle='#555';ctx.lineWidth=0.5;
    D.buildings.forEach(f=>{if(!visible(f))return;path(f);ctx.globalAlpha=0.8;ctx.fillStyle='#444';ctx.fill('evenodd');ctx.globalAlpha=1;});}
  D.grids.forEach(f=>{if(!f.a.flags&&f!==sel)return;if(!visible(f))return;path(f);
    ctx.lineWidth=f===sel?4:2.5;ctx.strokeStyle=f===sel?'#06c':'#d00';ctx.stroke();});
  ctx.textAlign='center';ctx.font='12px system-ui,sans-serif';
  D.grids.forEach(f=>{const w=(f.b[2]-f.b[0])*scale;if(w<60||!visible(f))return;
    const X=sx(mx(f.l[0])),Y=sy(my(f.l[1]));ctx.fillStyle='#000';
    ctx.fillText(String(f.a.grid_code).slice(-3)+' · '+f.a.households+'户',X,Y);});}
function inside(pt,ring){let c=false;for(let i=0,j=ring.length-1;i<ring.length;j=i++){
  const a=ring[i],b=ring[j];if((a[1]>pt[1])!==(b[1]>pt[1])&&pt[0]<(b[0]-a[0])*(pt[1]-a[1])/(b[1]-a[1])+a[0])c=!c;}return c;}
function pick(X,Y){const p=[(X-innerWidth/2)/scale+cx,(innerHeight/2-Y)/scale+cy];
  for(const f of D.grids){if(p[0]<f.b[0]||p[0]>f.b[2]||p[1]<f.b[1]||p[1]>f.b[3])continue;
    for(const poly of f.m){let n=0;poly.forEach(r=>{if(inside(p,r))n++;});if(n%2)return f;}}return null;}
let drag=null,moved=false;
cv.onmousedown=e=>{drag=[e.clientX,e.clientY];moved=false;cv.style.cursor='grabbing';};
addEventListener('mouseup',e=>{cv.style.cursor='grab';if(drag&&!moved){sel=pick(e.clientX,e.clientY);
  document.getElementById('info').innerHTML=sel?Object.entries(sel.a).map(([k,v])=>'<div><b>'+k+'</b>: '+v+'</div>').join(''):'';draw();}drag=null;});
addEventListener('mousemove',e=>{if(!drag)return;const dx=e.clientX-drag[0],dy=e.clientY-drag[1];
  if(Math.abs(dx)+Math.abs(dy)>2)moved=true;cx-=dx/scale;cy+=dy/scale;drag=[e.clientX,e.clientY];draw();});
function zoomAt(k,X,Y){const px=(X-innerWidth/2)/scale+cx,py=(innerHeight/2-Y)/scale+cy;scale*=k;
  cx=px-(X-innerWidth/2)/scale;cy=py-(innerHeight/2-Y)/scale;draw();}
cv.addEventListener('wheel',e=>{e.preventDefault();zoomAt(e.deltaY<0?1.25:0.8,e.clientX,e.clientY);},{passive:false});
document.getElementById('zin').onclick=()=>zoomAt(1.5,innerWidth/2,innerHeight/2);
document.getElementById('zout').onclick=()=>zoomAt(1/1.5,innerWidth/2,innerHeight/2);
addEventListener('resize',resize);legend();fit();resize();
</script></body></html>
"""
